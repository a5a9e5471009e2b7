package collector

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/iorca/iorca/collect/bundle"
	"github.com/iorca/iorca/collect/capture"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/internal/safefile"
)

// maxPasswdBytes bounds what is read of /etc/passwd (a node's is a few
// KiB; one fed from a directory service may be large), and maxUsers the
// names kept.
const (
	maxPasswdBytes = 4 << 20
	maxUsers       = 1000
)

// captureUsers names the users the described processes ran as, from the
// node's /etc/passwd, so that iotop's USER column is a name as iotop
// shows it. The collector is static (no cgo, no NSS): it reads the file
// itself, and users only a directory service knows stay numbers.
func (c *collection) captureUsers(ownMountNS bool) {
	uids := c.table.uids()
	if len(uids) == 0 {
		return
	}
	paths := []string{"/etc/passwd"}
	if ownMountNS {
		// In a container: the node's, through PID 1's root, or
		// kthreadd's (PID 2, always in the initial namespaces) where PID
		// 1 is not ours to inspect (as ownMountNS).
		paths = []string{"/proc/1/root/etc/passwd", "/proc/2/root/etc/passwd"}
	}
	var data []byte
	var err error
	path := ""
	for _, path = range paths {
		if data, err = safefile.ReadFile(path, maxPasswdBytes); err == nil {
			break
		}
	}
	if err != nil {
		c.ledger.read("passwd", path, 0, 0, capture.Classify(err), err)
		return
	}
	c.ledger.read("passwd", path, 0, 0, bundle.StatusOK, nil)
	names := parsePasswd(data, uids)
	users := make([]bundle.UserName, 0, len(names))
	for uid, name := range names {
		users = append(users, bundle.UserName{UID: uid, Name: name})
	}
	sort.Slice(users, func(i, j int) bool { return users[i].UID < users[j].UID })
	if len(users) > maxUsers {
		c.bound(bundle.Bound{Name: "users", Limit: maxUsers, What: fmt.Sprintf("%d users hold processes; the first %d by UID are named", len(users), maxUsers)})
		users = users[:maxUsers]
	}
	out, _ := json.MarshalIndent(users, "", "  ")
	c.store.put(bundle.UsersMember, append(out, '\n'))
}

// uids are the real and effective UIDs of the processes the table
// describes, from their status frames.
func (t *procTable) uids() map[int]bool {
	uids := map[int]bool{}
	for _, e := range t.entries {
		for f, err := range bundle.Frames(e.frames) {
			if err != nil {
				break
			}
			if f.Status != bundle.StatusOK || !strings.HasSuffix(f.Path, "/status") {
				continue
			}
			if st, err := procfs.ParsePIDStatus(f.Data); err == nil {
				uids[st.UID[0]], uids[st.UID[1]] = true, true
			}
		}
	}
	return uids
}

// parsePasswd returns the names /etc/passwd (passwd(5):
// name:password:UID:GID:GECOS:directory:shell) gives the wanted UIDs,
// the first entry for a UID as getpwuid(3) takes it. Comments, NIS
// compat entries (+, -) and malformed lines are skipped.
func parsePasswd(data []byte, want map[int]bool) map[int]string {
	names := map[int]string{}
	for line := range bytes.Lines(data) {
		fields := strings.SplitN(strings.TrimRight(string(line), "\r\n"), ":", 4)
		if len(fields) < 4 || fields[0] == "" || strings.HasPrefix(fields[0], "#") || strings.ContainsAny(fields[0][:1], "+-") {
			continue
		}
		uid, err := strconv.Atoi(fields[2])
		if err != nil || uid < 0 || !want[uid] {
			continue
		}
		if _, ok := names[uid]; !ok {
			names[uid] = fields[0]
		}
	}
	return names
}
