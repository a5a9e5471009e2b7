package workload

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Containerd is a private containerd daemon for a test: its own socket,
// root and state directories, with the CRI plugin off.
type Containerd struct {
	dir string
	ctr []string
}

// StartContainerd starts containerd and stops it when the test ends (after
// the containers, which are removed first).
func StartContainerd(t testing.TB) *Containerd {
	t.Helper()
	Live(t)
	for _, tool := range []string{"containerd", "ctr", "runc"} {
		RequireTool(t, tool)
	}
	dir := t.TempDir()
	for _, d := range []string{"root", "state"} {
		os.Mkdir(filepath.Join(dir, d), 0o700)
	}
	cfg := fmt.Sprintf(`version = 2
root = "%[1]s/root"
state = "%[1]s/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "%[1]s/containerd.sock"
[ttrpc]
  address = "%[1]s/containerd.sock.ttrpc"
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	log, _ := os.Create(filepath.Join(dir, "containerd.log"))
	cmd := exec.Command("containerd", "--config", filepath.Join(dir, "config.toml"))
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM} // as Start's
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		log.Close()
	})
	c := &Containerd{dir: dir, ctr: []string{"--address", filepath.Join(dir, "containerd.sock"), "-n", "k8s.io"}}
	for i := 0; i < 100; i++ {
		if exec.Command("ctr", append(c.ctr, "version")...).Run() == nil {
			return c
		}
		time.Sleep(100 * time.Millisecond)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "containerd.log"))
	t.Fatalf("containerd did not start:\n%s", b)
	return nil
}

// Rootfs makes a minimal root filesystem holding the static workload as
// /usr/local/bin/access-logger.
func Rootfs(t testing.TB, dir string) string {
	t.Helper()
	for _, d := range []string{"usr/local/bin", "proc", "dev", "sys", "tmp", "var/log/nginx", "etc"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(Build(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "usr/local/bin/access-logger"), b, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// Run starts a container with ctr run --rootfs -d and removes it when the
// test ends. opts go before the rootfs ("--log-uri", "file:///x.log").
func (c *Containerd) Run(t testing.TB, id, rootfs string, opts []string, args ...string) {
	t.Helper()
	a := append(append([]string{}, c.ctr...), "run", "--rootfs")
	a = append(a, opts...)
	a = append(append(a, "-d", rootfs, id), args...)
	if out, err := exec.Command("ctr", a...).CombinedOutput(); err != nil {
		t.Fatalf("ctr run: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		ctr := func(args ...string) {
			exec.Command("timeout", append([]string{"20", "ctr"}, append(append([]string{}, c.ctr...), args...)...)...).Run()
		}
		ctr("task", "kill", "-s", "KILL", id)
		time.Sleep(300 * time.Millisecond)
		ctr("task", "rm", "-f", id)
		ctr("container", "rm", id)
		// runc leaves the namespace's cgroup directory (and, if the task
		// could not be removed, the container's): remove what is empty.
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/k8s.io/" + id)
		more, _ := filepath.Glob("/sys/fs/cgroup/*/k8s.io")
		for _, d := range append(dirs, more...) {
			os.Remove(d)
		}
	})
}
