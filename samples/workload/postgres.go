package workload

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Postgres is a real PostgreSQL server a test started: its postmaster and
// the directory of its Unix socket.
type Postgres struct {
	Postmaster *exec.Cmd
	SocketDir  string
	Port       int
}

// postgresBin finds the server's programs: Debian installs them under
// /usr/lib/postgresql/VERSION/bin, outside PATH.
func postgresBin(t testing.TB) string {
	t.Helper()
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(matches) == 0 {
		if p, err := exec.LookPath("postgres"); err == nil {
			return filepath.Dir(p)
		}
		t.Skip("PostgreSQL is not installed (.ci/run installs the postgresql package)")
	}
	return filepath.Dir(matches[len(matches)-1])
}

// StartPostgres makes a database cluster in dir (on the filesystem under
// test) and starts a server on it as the postgres user, listening only on
// a Unix socket, logging to dir/server.log; it is stopped when the test ends, even if it
// fails. dir's ancestors are made traversable for that user. settings are
// extra server settings ("synchronous_commit=on").
func StartPostgres(t testing.TB, dir string, settings ...string) *Postgres {
	t.Helper()
	Live(t)
	bin := postgresBin(t)
	u, err := user.Lookup("postgres")
	if err != nil {
		t.Skip("no postgres user (.ci/run installs the postgresql package, which creates it)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	// The server runs as postgres: it must reach dir through the test's
	// own temporary directories (created 0700).
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o005 != 0o005 && strings.HasPrefix(d, os.TempDir()) {
			os.Chmod(d, fi.Mode().Perm()|0o005)
		}
	}
	data := filepath.Join(dir, "pgdata")
	if err := os.MkdirAll(data, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(data, uid, gid); err != nil {
		t.Fatal(err)
	}
	// --no-sync: initdb's own fsyncs are not the scenario.
	MustRun(t, "runuser", "-u", "postgres", "--", filepath.Join(bin, "initdb"), "--no-sync", "-A", "trust", "-U", "postgres", "-D", data)
	// The socket directory is a short path of its own: socket paths are
	// limited to 107 bytes, and unix_socket_directories is a
	// comma-separated list (a test name can hold a comma).
	sock, err := os.MkdirTemp("", "iorca-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sock) })
	if err := os.Chown(sock, uid, gid); err != nil {
		t.Fatal(err)
	}
	port := 50000 + os.Getpid()%10000
	args := []string{"-u", "postgres", "--", filepath.Join(bin, "postgres"), "-D", data, "-k", sock, "-p", strconv.Itoa(port), "-c", "listen_addresses=",
		"-c", "logging_collector=on", "-c", "log_directory=" + dir, "-c", "log_filename=server.log"}
	for _, s := range settings {
		args = append(args, "-c", s)
	}
	pm := Start(t, "runuser", args...)
	pg := &Postgres{Postmaster: pm, SocketDir: sock, Port: port}
	// Stop it cleanly first (the cleanup of Start kills what is left).
	t.Cleanup(func() {
		exec.Command("runuser", "-u", "postgres", "--", filepath.Join(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "-t", "10", "stop").Run()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if exec.Command(filepath.Join(bin, "pg_isready"), "-h", sock, "-p", strconv.Itoa(port), "-q").Run() == nil {
			return pg
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			t.Fatalf("PostgreSQL did not become ready in 30 s on %s (socket in %s); its log:\n%s", dir, sock, log)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Pgbench runs pgbench against the server with args (after the
// connection options), failing t if it fails, and returns its output.
func (pg *Postgres) Pgbench(t testing.TB, args ...string) string {
	t.Helper()
	return MustRun(t, filepath.Join(postgresBin(t), "pgbench"), append([]string{"-h", pg.SocketDir, "-p", strconv.Itoa(pg.Port), "-U", "postgres"}, args...)...)
}

// StartPgbench starts pgbench in the background (it ends with the test).
func (pg *Postgres) StartPgbench(t testing.TB, args ...string) *exec.Cmd {
	t.Helper()
	return Start(t, filepath.Join(postgresBin(t), "pgbench"), append([]string{"-h", pg.SocketDir, "-p", strconv.Itoa(pg.Port), "-U", "postgres"}, args...)...)
}

// String names the server for logs.
func (pg *Postgres) String() string {
	return fmt.Sprintf("postgres (postmaster under runuser %d) on %s:%d", pg.Postmaster.Process.Pid, pg.SocketDir, pg.Port)
}

// StartPgbenchLoad runs the TPC-B-like pgbench load with 8 clients for
// up to two minutes (the test's cleanup ends it): every transaction
// commits, so every backend waits for its WAL to reach the device.
func StartPgbenchLoad(t testing.TB, pg *Postgres) *exec.Cmd {
	t.Helper()
	return pg.StartPgbench(t, "-n", "-c", "8", "-j", "2", "-T", "120", "postgres")
}
