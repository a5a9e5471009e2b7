package collector

import (
	"context"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/samples/workload"
)

// The names this machine's /etc/passwd (testdata/passwd, as the collector
// read it) gives the UIDs asked for, and none for a UID it lacks.
func TestParsePasswdCaptured(t *testing.T) {
	data, err := os.ReadFile("testdata/passwd")
	if err != nil {
		t.Fatal(err)
	}
	got := parsePasswd(data, map[int]bool{0: true, 101: true, 65534: true, 4242: true})
	want := map[int]string{0: "root", 101: "postgres", 65534: "nobody"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parsePasswd: %v, want %v", got, want)
	}
}

func TestParsePasswd(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     map[int]string
	}{
		{"first entry wins, as getpwuid", "toor:x:0:0::/root:/bin/sh\nroot:x:0:0::/root:/bin/bash\n", map[int]string{0: "toor"}},
		{"comments, NIS compat and malformed lines", "# root:x:0:0\n+nis:x:1:1::/:/bin/sh\n-x:x:1:1::/:/\nbad line\n:x:1:1::/:/\napp:x:1:1::/:/bin/sh", map[int]string{1: "app"}},
		{"a UID that is not a number", "app:x:one:1::/:/bin/sh\n", map[int]string{}},
		{"CRLF and an unwanted UID", "app:x:1:1::/:/bin/sh\r\nweb:x:33:33::/:/bin/sh\r\n", map[int]string{1: "app"}},
	} {
		if got := parsePasswd([]byte(tc.in), map[int]bool{0: true, 1: true}); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A capture names the users its processes ran as, from this machine's
// /etc/passwd: root among them, each named UID one a described process
// ran as, each name the one the file gives.
func TestUsersLive(t *testing.T) {
	workload.Live(t)
	cfg := testConfig(t)
	cfg.Duration, cfg.Strace = 2*time.Second, false
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b := readBundle(t, res.Path)
	data, ok := b.Member(bundle.UsersMember)
	if !ok {
		t.Fatalf("no %s; sources %+v", bundle.UsersMember, b.Manifest.Sources)
	}
	var users []bundle.UserName
	if err := json.Unmarshal(data, &users); err != nil {
		t.Fatal(err)
	}
	uids := map[int]bool{}
	for f := range bundle.Frames(mustMember(t, b, bundle.ProcTableMember)) {
		if strings.HasSuffix(f.Path, "/status") {
			if st, err := procfs.ParsePIDStatus(f.Data); err == nil {
				uids[st.UID[0]], uids[st.UID[1]] = true, true
			}
		}
	}
	passwd, _ := os.ReadFile("/etc/passwd")
	want := parsePasswd(passwd, uids)
	got := map[int]string{}
	for _, u := range users {
		got[u.UID] = u.Name
	}
	if got[0] != "root" || !reflect.DeepEqual(got, want) {
		t.Errorf("users %v, want %v (the described processes' UIDs %v)", got, want, uids)
	}
}

func mustMember(t *testing.T, b *bundle.Bundle, name string) []byte {
	t.Helper()
	data, ok := b.Member(name)
	if !ok {
		t.Fatalf("no %s", name)
	}
	return data
}
