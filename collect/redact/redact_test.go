package redact

import (
	"strings"
	"testing"
)

func nul(args ...string) []byte { return []byte(strings.Join(args, "\x00") + "\x00") }

func TestCmdline(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		want   []byte
		masked int
	}{
		{"assign", nul("app", "--password=hunter2", "-v"), nul("app", "--password=***", "-v"), 1},
		{"next arg", nul("app", "--token", "abc123", "--port", "80"), nul("app", "--token", "***", "--port", "80"), 1},
		{"next arg is a flag", nul("app", "--api-key", "--verbose"), nul("app", "--api-key", "--verbose"), 0},
		{"env style", nul("env", "MYSQL_ROOT_PASSWORD=s3cr3t", "mysqld"), nul("env", "MYSQL_ROOT_PASSWORD=***", "mysqld"), 1},
		{"url credentials", nul("psql", "postgres://app:pw0rd@db:5432/x"), nul("psql", "postgres://app:***@db:5432/x"), 1},
		{"rewritten cmdline", []byte("mysqld --user=mysql --password=hunter2 --port=3306"), []byte("mysqld --user=mysql --password=*** --port=3306"), 1},
		{"rewritten with separate value", []byte("worker --secret hunter2 -x"), []byte("worker --secret *** -x"), 1},
		{"harmless", nul("nginx", "-g", "daemon off;", "--keyboard=us"), nul("nginx", "-g", "daemon off;", "--keyboard=us"), 0},
		{"key word", nul("app", "--tls-key=/etc/k.pem", "--client_secret=x"), nul("app", "--tls-key=***", "--client_secret=***"), 2},
		{"empty", nil, nil, 0},
	}
	for _, tt := range tests {
		got, m := Cmdline(append([]byte(nil), tt.in...))
		if string(got) != string(tt.want) || len(m) != tt.masked {
			t.Errorf("%s: Cmdline(%q) = %q (%d masked), want %q (%d)", tt.name, tt.in, got, len(m), tt.want, tt.masked)
		}
	}
	_, m := Cmdline(nul("app", "--password=hunter2"))
	if m[0].Arg != 1 || m[0].Key != "--password" || m[0].Chars != 7 {
		t.Errorf("masked = %+v", m[0])
	}
}

func FuzzCmdline(f *testing.F) {
	f.Add(nul("app", "--password=hunter2", "--token", "x", "a://u:p@h"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _ := Cmdline(append([]byte(nil), in...))
		if strings.Count(string(out), "\x00") != strings.Count(string(in), "\x00") {
			t.Fatalf("argument count changed: %q -> %q", in, out)
		}
	})
}
