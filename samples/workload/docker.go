package workload

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Dockerd is a docker daemon a test started, with its own data root,
// state and socket: it shares nothing with a dockerd of the machine's.
type Dockerd struct {
	// Root is its data root (containers/ID/config.v2.json live there);
	// Host its socket, for docker -H.
	Root, Host string
}

// StartDockerd starts dockerd (Debian's docker.io) for the test: no
// network bridge and no iptables rules, the vfs storage driver (it works
// on any filesystem, and the test images are a few MiB), its own
// containerd. When the test ends every container is removed and the
// daemon stopped, even if the test failed. It skips when dockerd is
// missing (.ci/run installs docker.io).
func StartDockerd(t testing.TB) *Dockerd {
	t.Helper()
	Live(t)
	RequireTool(t, "dockerd")
	RequireTool(t, "docker")
	root := t.TempDir()
	// The socket path must fit a sockaddr_un: a short directory in /run.
	run, err := os.MkdirTemp("/run", "iorca-dockerd-")
	if err != nil {
		t.Fatal(err)
	}
	d := &Dockerd{Root: filepath.Join(root, "data"), Host: "unix://" + filepath.Join(run, "docker.sock")}
	logf, err := os.Create(filepath.Join(root, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dockerd", "--data-root", d.Root, "--exec-root", filepath.Join(run, "exec"),
		"--pidfile", filepath.Join(run, "dockerd.pid"), "-H", d.Host, "--bridge=none", "--iptables=false",
		"--ip6tables=false", "--ip-masq=false", "--storage-driver=vfs", "--log-driver=json-file")
	cmd.Stdout, cmd.Stderr = logf, logf
	// TERM on the test binary's death (as Start's KILL): dockerd stops its
	// containers on TERM.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if ids, err := exec.Command("docker", "-H", d.Host, "ps", "-aq").Output(); err == nil && len(strings.TrimSpace(string(ids))) > 0 {
			exec.Command("docker", append([]string{"-H", d.Host, "rm", "-f"}, strings.Fields(string(ids))...)...).Run()
		}
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		// Its containerd and shims are its descendants, gone with it; a
		// mount left under the exec root would keep the directory busy.
		exec.Command("umount", "-R", "-l", run).Run()
		os.RemoveAll(run)
		logf.Close()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := exec.Command("docker", "-H", d.Host, "version").Run(); err == nil {
			return d
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("dockerd did not answer within 30 s:\n%s", tail(string(log), 40))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Docker runs the docker CLI against this daemon and returns its output.
func (d *Dockerd) Docker(t testing.TB, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", append([]string{"-H", d.Host}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// ImageOf builds an image FROM scratch holding the files given (path in
// the image -> file on this machine), tagged tag.
func (d *Dockerd) ImageOf(t testing.TB, tag string, files map[string]string, entrypoint ...string) {
	t.Helper()
	ctx := t.TempDir()
	var df strings.Builder
	df.WriteString("FROM scratch\n")
	i := 0
	for dst, src := range files {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("f%d", i)
		i++
		if err := os.WriteFile(filepath.Join(ctx, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&df, "COPY %s %s\n", name, dst)
	}
	if len(entrypoint) > 0 {
		q := make([]string, len(entrypoint))
		for i, e := range entrypoint {
			q[i] = fmt.Sprintf("%q", e)
		}
		fmt.Fprintf(&df, "ENTRYPOINT [%s]\n", strings.Join(q, ", "))
	}
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(df.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	d.Docker(t, "build", "-q", "-t", tag, ctx)
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
