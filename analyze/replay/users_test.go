package replay

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/analyze/internal/hostile"
	"github.com/iorca/iorca/analyze/internal/sampletest"
	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/collect/bundle"
)

// Bundles of collectors before static/users.json (every shipped sample)
// load, and iotop's USER is the uid there, which its header says.
func TestIotopUserWithoutNames(t *testing.T) {
	for _, s := range samples {
		m := load(t, s)
		if m.UserNames != nil {
			t.Errorf("%s: user names %v from a bundle without %s", s, m.UserNames, bundle.UsersMember)
		}
		bs := run(t, m, "iotop", Options{Tick: -1})
		for _, b := range bs {
			if !strings.Contains(strings.Join(b.Header, " "), "USER is the uid: the bundle holds no user names") {
				t.Errorf("%s: iotop's header does not say USER is the uid: %q", s, b.Header)
			}
			for r := range b.Table.Rows {
				if c := column(t, b.Table, r, "USER"); c.Shown != "" || !c.IsNum {
					t.Errorf("%s: USER %+v, want the uid", s, c)
				}
			}
		}
	}
}

// With the member, iotop's USER is the name the node's passwd gives
// (the uid where it gives none), and JSON keeps the uid.
func TestIotopUserNames(t *testing.T) {
	base, err := bundle.ReadFile(sampletest.Path(t, "nginx-logger-stdout"), bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	plain := load(t, "nginx-logger-stdout")
	// Every UID of the capture named but the highest, which stays a number.
	uids := map[int]bool{}
	high := -1
	for _, p := range plain.Procs {
		uids[p.UID] = true
		high = max(high, p.UID)
	}
	var users []bundle.UserName
	for uid := range uids {
		if uid != high || len(uids) == 1 {
			users = append(users, bundle.UserName{UID: uid, Name: fmt.Sprintf("user%d", uid)})
		}
	}
	if len(uids) == 1 {
		high = -1
	}
	data, _ := json.Marshal(users)
	path := filepath.Join(t.TempDir(), "with-users.tar.zst")
	if err := hostile.Write(path, base, nil, hostile.Member{Name: bundle.UsersMember, Chunk: data, Repeat: 1}); err != nil {
		t.Fatal(err)
	}
	m, err := model.LoadFile(path, bundle.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.UserNames) != len(users) {
		t.Fatalf("user names %v, want %v", m.UserNames, users)
	}
	bs := run(t, m, "iotop", Options{Tick: -1})
	shown := 0
	for _, b := range bs {
		if !strings.Contains(strings.Join(b.Header, " "), "USER is the name the node's /etc/passwd gives the uid") {
			t.Errorf("iotop's header does not say USER is a name: %q", b.Header)
		}
		for r := range b.Table.Rows {
			c := column(t, b.Table, r, "USER")
			uid := int(c.Num)
			switch {
			case uid == high && c.Shown != "":
				t.Errorf("uid %d, which passwd does not name, shown as %q", uid, c.Shown)
			case uid != high && c.Shown != fmt.Sprintf("user%d", uid):
				t.Errorf("uid %d shown as %q, want user%d", uid, c.Shown, uid)
			}
			shown++
		}
		js, err := json.Marshal(b.Table)
		if err != nil || !strings.Contains(string(js), `"uid":`) || strings.Contains(string(js), `"uid":"`) {
			t.Errorf("iotop JSON keeps the uid as a number: %v %.300s", err, js)
		}
	}
	if shown == 0 {
		t.Fatal("iotop shows no process")
	}
}
