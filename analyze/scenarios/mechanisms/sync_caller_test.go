package mechanisms

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iorca/iorca/samples/workload"
)

// Issue 24, item 3: a snapshot agent runs coreutils' sync in a shell loop
// every 200 ms while two services write buffered data to a slow disk
// (10 ms a write). Each sync() makes the flushers write every dirty page
// and the journal commit on the agent's schedule. The report names the
// agent (not the short-lived sync processes, not the writers whose pages
// it forces out) as the culprit and sync-caller as the mechanism, and
// says whose data it forced out.
func TestSyncCallerAgent(t *testing.T) {
	syncAgentScenario(t, "sync", "sync()")
}

// The same agent with sync -f on the writers' filesystem (syncfs(2)):
// the same culprit and mechanism, and the call is named syncfs() from
// the work it queued, without the syncfs advice it already follows.
func TestSyncfsCallerAgent(t *testing.T) {
	syncAgentScenario(t, "sync -f MNT", "syncfs()")
}

// syncAgentScenario runs the agent's loop with the command cmd (MNT is
// the writers' mount point) and checks the report; call is how the
// sync-caller finding's title names the call.
func syncAgentScenario(t *testing.T, cmd, call string) {
	workload.RequireTool(t, "sync")
	mnt, dev := slowExt4(t, "10ms")
	workload.StartProgram(t, "ingest", "--file", filepath.Join(mnt, "ingest.dat"), "--size", "65536", "--rate", "32", "--max-bytes", "128MiB")
	workload.StartProgram(t, "metrics-writer", "--file", filepath.Join(mnt, "metrics.log"), "--size", "300", "--rate", "200", "--max-bytes", "64MiB")
	script := filepath.Join(t.TempDir(), "snapshot-agent")
	loop := "#!/bin/bash\nwhile :; do " + strings.ReplaceAll(cmd, "MNT", mnt) + "; sleep 0.2; done\n"
	if err := os.WriteFile(script, []byte(loop), 0o755); err != nil {
		t.Fatal(err)
	}
	agent := workload.Start(t, script)
	r, md := captureReport(t)
	checkVerdict(t, r, dev, agent.Process.Pid, "sync-caller")
	// The agent is traced although each sync(1) it runs is gone within a
	// second: the calls of one seen in any tick name their parent.
	if strings.Contains(md, "the collector did not pick it as a target") {
		t.Error("the agent was not traced")
	}
	for _, f := range r.Findings {
		// Whose pages it forced out are named on the device where it holds
		// the most time: the test's slow disk, or on a busy machine the
		// host disk whose dirty pages (another build's) the same calls
		// forced out; the ingest writer is named on the slow disk.
		if f.ID == "sync-caller" && len(f.Subjects.PIDs) > 0 && f.Subjects.PIDs[0] == agent.Process.Pid &&
			(!strings.Contains(f.Summary, "called "+call+" ") || (f.Subjects.Device == dev && !strings.Contains(f.Summary, "(ingest)"))) {
			t.Errorf("sync-caller does not say whose pages it forced out, or not %s: %s", call, f.Summary)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("report:\n%s", md)
	}
}
