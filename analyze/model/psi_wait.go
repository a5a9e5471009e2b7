package model

import "strings"

// Whether PSI counts a sleep as an IO stall (REFERENCE-IO.md §5.1): a
// task is IO-delayed while it sleeps with p->in_iowait set
// (kernel/sched/stats.h psi_dequeue: "if (p->in_iowait) set |=
// TSK_IOWAIT"), and only io_schedule() and io_schedule_timeout() set it
// (kernel/sched/core.c io_schedule_prepare). A sleep through them is
// counted; a plain schedule() in TASK_UNINTERRUPTIBLE is a D state that
// PSI io (and delay accounting's blkio) does not see. /proc/PID/stack
// leaves the scheduler's frames out, so the function that slept is the
// innermost frame a sampled stack shows (and the wchan).

// PSIWait is how PSI counts one sampled sleep.
type PSIWait int

const (
	// PSIUnknown: a sleep in a function iorca does not classify.
	PSIUnknown PSIWait = iota
	// PSICounted: an io_schedule() sleep, counted as an IO stall.
	PSICounted
	// PSIUncounted: a plain uninterruptible sleep PSI does not count.
	PSIUncounted
)

// psiCounted are functions that sleep through io_schedule(): what each
// waits for.
var psiCounted = map[string]string{
	// fs/jbd2/transaction.c: wait_on_bit_io(&bh->b_state, BH_Shadow,
	// ...) while the commit writes the buffer's copy; bit_wait_io is
	// io_schedule(); lock_buffer() too.
	"do_get_write_access": "a metadata buffer the journal commit is writing",
	// mm/filemap.c folio_wait_bit_common: io_schedule().
	"folio_wait_writeback":   "a page under writeback",
	"folio_wait_bit":         "a page under IO",
	"folio_wait_bit_common":  "a page under IO",
	"__folio_lock":           "a page under IO",
	"wait_on_page_writeback": "a page under writeback",
	// include/linux/wait_bit.h wait_on_bit_io, fs/buffer.c.
	"bit_wait_io":      "a buffer under IO",
	"__wait_on_buffer": "a buffer under IO",
	"__lock_buffer":    "a buffer under IO",
	// mm/page-writeback.c: io_schedule_timeout(pause).
	"balance_dirty_pages": "dirty throttling",
	// block/blk-mq-tag.c blk_mq_get_tag: io_schedule().
	"blk_mq_get_tag": "a free request slot",
	"rq_qos_wait":    "writeback throttling",
	// block/bio.c submit_bio_wait: blk_wait_io, wait_for_completion_io.
	"submit_bio_wait":                "its own request",
	"blk_wait_io":                    "its own request",
	"wait_for_completion_io":         "its own request",
	"io_schedule":                    "IO",
	"io_schedule_timeout":            "IO",
	"wait_for_completion_io_timeout": "its own request",
}

// psiUncounted are functions that sleep in a plain schedule(): the
// commit each waits for.
var psiUncounted = map[string]string{
	// fs/jbd2/journal.c jbd2_log_wait_commit: wait_event().
	"jbd2_log_wait_commit": "journal commit",
	// fs/jbd2/transaction.c: schedule() while a transaction is locked.
	"wait_transaction_locked":    "journal commit",
	"wait_transaction_switching": "journal commit",
	// fs/xfs/xfs_log_priv.h xlog_wait: schedule().
	"xlog_wait":          "log force",
	"xlog_wait_on_iclog": "log force",
	"xlog_force_lsn":     "log force",
	"xfs_log_force":      "log force",
	"xfs_log_force_seq":  "log force",
	"xlog_cil_force_seq": "log force",
	// fs/btrfs/tree-log.c, transaction.c: wait_event().
	"wait_log_commit":    "log-tree sync",
	"wait_for_writer":    "log-tree sync",
	"wait_current_trans": "transaction commit",
}

// PSIWaitOf classifies a sampled sleep by the innermost function of its
// stack that iorca knows (the wchan when there is no stack): how PSI
// counts it, the function, and what it waits for.
func PSIWaitOf(wchan, stack string) (w PSIWait, fn, what string) {
	frames := []string{wchan}
	if stack != "" {
		frames = nil
		for _, line := range strings.Split(stack, "\n") {
			frames = append(frames, frameFunc(line))
		}
	}
	for _, f := range frames {
		if what, ok := psiCounted[f]; ok {
			return PSICounted, f, what
		}
		if what, ok := psiUncounted[f]; ok {
			return PSIUncounted, f, what
		}
	}
	return PSIUnknown, "", ""
}

// frameFunc is the function of one /proc/PID/stack line
// ("[<0>] jbd2_log_wait_commit+0xc2/0x150").
func frameFunc(line string) string {
	if _, rest, ok := strings.Cut(line, "] "); ok {
		line = rest
	}
	fn, _, _ := strings.Cut(strings.TrimSpace(line), "+")
	return fn
}
