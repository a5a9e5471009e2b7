package replay

import (
	"fmt"
	"sort"

	"github.com/iorca/iorca/analyze/model"
	"github.com/iorca/iorca/internal/procfs"
	"github.com/iorca/iorca/internal/table"
)

// iostatColumns are iostat -dxk's, in its order (sysstat 12.6).
var iostatColumns = []table.Column{
	{Name: "Device", Left: true}, {Name: "r/s", Prec: 2}, {Name: "rkB/s", Prec: 2}, {Name: "rrqm/s", Prec: 2}, {Name: "%rrqm", Prec: 2},
	{Name: "r_await", Prec: 2}, {Name: "rareq-sz", Prec: 2}, {Name: "w/s", Prec: 2}, {Name: "wkB/s", Prec: 2}, {Name: "wrqm/s", Prec: 2},
	{Name: "%wrqm", Prec: 2}, {Name: "w_await", Prec: 2}, {Name: "wareq-sz", Prec: 2}, {Name: "d/s", Prec: 2}, {Name: "dkB/s", Prec: 2},
	{Name: "drqm/s", Prec: 2}, {Name: "%drqm", Prec: 2}, {Name: "d_await", Prec: 2}, {Name: "dareq-sz", Prec: 2}, {Name: "f/s", Prec: 2},
	{Name: "f_await", Prec: 2}, {Name: "aqu-sz", Prec: 2}, {Name: "%util", Prec: 2},
}

func iostatRow(name string, x model.Iostat) []table.Cell {
	n := table.Num
	return []table.Cell{table.Text(name), n(x.RPS), n(x.RkBPS), n(x.RrqmPS), n(x.RrqmPct), n(x.RAwait), n(x.RareqSz),
		n(x.WPS), n(x.WkBPS), n(x.WrqmPS), n(x.WrqmPct), n(x.WAwait), n(x.WareqSz), n(x.DPS), n(x.DkBPS), n(x.DrqmPS),
		n(x.DrqmPct), n(x.DAwait), n(x.DareqSz), n(x.FPS), n(x.FAwait), n(x.AquSz), n(x.Util)}
}

// iostat is iostat -dxk: whole devices that have done IO, or every
// device and partition with --all. "since boot" is shown for tick 0.
func iostat(m *model.Model, o Options) ([]Block, error) {
	whole := map[string]bool{}
	for _, d := range m.WholeDisks() {
		whole[d] = true
	}
	var blocks []Block
	for _, iv := range intervals(m, o) {
		from, to := iv[0], iv[1]
		cur := m.Ticks[to].Disks
		var rates map[string]model.Iostat
		title := blockTitle(m, from, to)
		secs := m.Seconds(from, to)
		if from == to {
			// The first report of iostat: since boot.
			rates = map[string]model.Iostat{}
			for name, d := range cur {
				rates[name] = model.IostatBetween(procfs.DiskStat{}, d, m.Ticks[to].Uptime.Centiseconds)
			}
			title = fmt.Sprintf("tick %d: since boot (%.2f s of uptime)", to, m.Ticks[to].Uptime.Seconds)
			secs = m.Ticks[to].Uptime.Seconds
		} else {
			rates = m.DeviceIostat(from, to)
		}
		t := &table.Table{Columns: iostatColumns}
		names := make([]string, 0, len(rates))
		for name := range rates {
			d := cur[name]
			// iostat hides devices that never did IO, and shows only
			// whole devices unless asked for partitions.
			if !o.All && (!whole[name] || d.ReadIOs+d.WriteIOs+d.DiscardIOs+d.FlushIOs == 0) {
				continue
			}
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			t.Add(iostatRow(name, rates[name])...)
		}
		blocks = append(blocks, Block{Title: title, From: from, To: to, Time: m.Ticks[to].Wall, Seconds: secs, Table: t})
	}
	return blocks, nil
}

// pidstat is pidstat -d: processes with IO in the interval, rates over
// the /proc/uptime delta; a process absent from the previous tick starts
// from zero, as pidstat does.
func pidstat(m *model.Model, o Options) ([]Block, error) {
	var blocks []Block
	for _, iv := range intervals(m, o) {
		from, to := iv[0], iv[1]
		t := &table.Table{Columns: []table.Column{{Name: "UID", Prec: -1}, {Name: "PID", Prec: -1}, {Name: "kB_rd/s", Prec: 2},
			{Name: "kB_wr/s", Prec: 2}, {Name: "kB_ccwr/s", Prec: 2}, {Name: "iodelay", Prec: -1}, {Name: "Command", Left: true}}}
		itv := m.Ticks[to].Uptime.Centiseconds
		if from != to {
			itv -= m.Ticks[from].Uptime.Centiseconds
		}
		for _, p := range m.Procs {
			cur := pointAt(m, p, to)
			if cur == nil || !cur.HasIO {
				continue
			}
			var prev model.Counters
			if from != to {
				if pp := pointAt(m, p, from); pp != nil {
					prev = pp.Counters
				}
			}
			d := model.PidstatDBetween(prev, cur.Counters, itv)
			if !o.All && !d.Active() {
				continue
			}
			t.Add(table.Int(int64(p.UID)), table.Int(int64(p.PID)), table.Num(d.KBRdPS), table.Num(d.KBWrPS), table.Num(d.KBCcwrPS),
				table.Int(int64(d.IODelay)), table.Text(p.Comm))
		}
		title := blockTitle(m, from, to)
		if from == to {
			title = fmt.Sprintf("tick %d: since boot", to)
		}
		blocks = append(blocks, Block{Title: title, From: from, To: to, Time: m.Ticks[to].Wall, Seconds: float64(itv) / 100, Table: t})
	}
	return blocks, nil
}

// iotop is iotop -aoP (or -oP with --rate), computed as iotop-c does: a
// process's first sample shows nothing, later ones its increments;
// accumulated values add the increments since the capture began. The
// header's Total is the sum of the rows; Current is pgpgin/pgpgout.
func iotop(m *model.Model, o Options) ([]Block, error) {
	hz := m.Manifest.Host.UserHZ
	var blocks []Block
	acc := map[*model.Process][2]int64{}
	ivs := intervals(m, o)
	// Accumulated values need every interval from the start.
	var all [][2]int
	if !o.Rate && !o.Summary {
		last := ivs[len(ivs)-1][1]
		for k := 1; k <= last; k++ {
			all = append(all, [2]int{k - 1, k})
		}
	}
	show := map[[2]int]bool{}
	for _, iv := range ivs {
		show[iv] = true
	}
	if all == nil {
		all = ivs
	}
	for _, iv := range all {
		from, to := iv[0], iv[1]
		secs := m.Seconds(from, to)
		type row struct {
			p      *model.Process
			rd, wr int64
			ioPct  float64
		}
		var rows []row
		for _, pio := range m.ProcessIO(from, to) {
			p := pio.Proc
			if pointAt(m, p, from) == nil && !o.Summary {
				continue // iotop shows nothing for a task's first sample
			}
			a := acc[p]
			a[0] += pio.Delta.IO.ReadBytes
			a[1] += pio.Delta.IO.WriteBytes
			acc[p] = a
			r := row{p: p, rd: pio.Delta.IO.ReadBytes, wr: pio.Delta.IO.WriteBytes, ioPct: pio.IOPercent(hz)}
			if !o.Rate {
				r.rd, r.wr = a[0], a[1]
			}
			if !o.All && r.rd == 0 && r.wr == 0 && r.ioPct == 0 {
				continue
			}
			rows = append(rows, r)
		}
		if !show[iv] {
			continue
		}
		sort.Slice(rows, func(i, j int) bool {
			if a, b := rows[i].rd+rows[i].wr, rows[j].rd+rows[j].wr; a != b {
				return a > b
			}
			return rows[i].p.PID < rows[j].p.PID
		})
		t := iotopTable(o.Rate)
		var totR, totW float64
		for _, r := range rows {
			rd, wr := float64(r.rd), float64(r.wr)
			if o.Rate {
				rd, wr = rd/secs, wr/secs
			}
			totR += rd
			totW += wr
			t.Add(table.Int(int64(r.p.PID)), table.Text(ioprioFromNice(r.p.Nice)), userCell(m, r.p.UID),
				table.Shown(rd, iotopSize(rd, o.Rate)), table.Shown(wr, iotopSize(wr, o.Rate)), table.Text("?"),
				table.Shown(r.ioPct, fmt.Sprintf("%.2f %%", r.ioPct)), table.Text(command(r.p)))
		}
		header := []string{fmt.Sprintf("  Total DISK READ: %s |   Total DISK WRITE: %s", iotopSize(totR, o.Rate), iotopSize(totW, o.Rate))}
		if in, out, ok := pgpg(m, from, to); ok {
			header = append(header, fmt.Sprintf("Current DISK READ: %s | Current DISK WRITE: %s", iotopSize(in*1024/secs, true), iotopSize(out*1024/secs, true)))
		}
		header = append(header, iotopScope(m, o, from, to), iotopColumnsNote(m))
		if m.Sysctl["kernel/task_delayacct"] == "0" {
			header = append(header, "(kernel.task_delayacct was 0: IO is 0 unless a task started with it on)")
		}
		blocks = append(blocks, Block{Title: blockTitle(m, from, to), From: from, To: to, Time: m.Ticks[to].Wall, Seconds: secs, Header: header, Table: t})
	}
	return blocks, nil
}

// iotopTable is iotop-c's batch columns, in its order. In JSON the
// sizes are bytes (or bytes per second), the IO share a percentage.
func iotopTable(rate bool) *table.Table {
	read, write := "disk_read_bytes", "disk_write_bytes"
	if rate {
		read, write = read+"_per_s", write+"_per_s"
	}
	return &table.Table{Columns: []table.Column{{Name: "PID", Prec: -1}, {Name: "PRIO", Left: true}, {Name: "USER", Key: "uid", Prec: -1, Left: true},
		{Name: "DISK READ", Key: read, Prec: 0}, {Name: "DISK WRITE", Key: write, Prec: 0},
		{Name: "SWAPIN", Key: "swapin", Left: true}, {Name: "IO", Key: "io_pct", Prec: 2}, {Name: "COMMAND", Left: true}}}
}

// userCell is iotop's USER: the name the node's /etc/passwd gives the
// uid where the bundle holds it, the uid otherwise; JSON keeps the uid.
func userCell(m *model.Model, uid int) table.Cell {
	if name, ok := m.UserNames[uid]; ok {
		return table.Shown(float64(uid), name)
	}
	return table.Int(int64(uid))
}

// iotopColumnsNote says which of iotop's columns the bundle cannot fill
// as iotop would.
func iotopColumnsNote(m *model.Model) string {
	user := "USER is the uid: the bundle holds no user names (a collector before static/users.json, or /etc/passwd unreadable)."
	if m.UserNames != nil {
		user = "USER is the name the node's /etc/passwd gives the uid, the uid where it gives none (a directory service's users); JSON keeps the uid."
	}
	return user + " PRIO is derived from the nice value as iotop does for a task " +
		"with no I/O priority set, be/(nice+20)/5: the bundle holds neither ioprio_get's value nor the scheduling policy, so a task " +
		"given a class by ionice, or running SCHED_FIFO, SCHED_RR or SCHED_IDLE, shows be too. SWAPIN is ? (taskstats only)."
}

// iotopScope says what the DISK READ and DISK WRITE figures cover.
func iotopScope(m *model.Model, o Options, from, to int) string {
	switch {
	case o.Summary:
		return fmt.Sprintf("DISK READ and DISK WRITE: bytes over the whole capture (%.2f s); IO over the same span", m.Seconds(from, to))
	case o.Rate:
		return fmt.Sprintf("DISK READ and DISK WRITE: rates over this interval (ticks %d-%d, %.2f s), as iotop -o shows them", from, to, m.Seconds(from, to))
	}
	return fmt.Sprintf("DISK READ and DISK WRITE accumulate from the start of the capture (tick 0, %s UTC) to tick %d, as iotop -a counts from its own start "+
		"(a process's from its first sample); IO is this interval's (ticks %d-%d); --rate shows the interval's rates",
		m.Ticks[0].Wall.UTC().Format("15:04:05"), to, from, to)
}

// iotopSize prints bytes (or bytes per second) as iotop-c does by
// default (humanize_val, base 1024, threshold 2): divided by 1024 while
// above 2048, with its unit B, K, M, G, T, and /s for a rate.
func iotopSize(v float64, rate bool) string {
	units := "BKMGTPE"
	p := 0
	for v > 2*1024 && p+1 < len(units) {
		v /= 1024
		p++
	}
	suffix := "  "
	if rate {
		suffix = "/s"
	}
	return fmt.Sprintf("%7.2f %c%s", v, units[p], suffix)
}

// ioprioFromNice is the I/O priority iotop shows for a task that has none
// set: best effort, level (nice+20)/5 (get_ioprio_from_sched).
func ioprioFromNice(nice int64) string {
	return fmt.Sprintf("be/%d", min(max((nice+20)/5, 0), 7))
}

// pgpg returns the KiB submitted for read and write between two ticks
// (/proc/vmstat pgpgin, pgpgout: iotop's "Current DISK READ/WRITE").
func pgpg(m *model.Model, from, to int) (float64, float64, bool) {
	a, b := m.Ticks[from].Vmstat, m.Ticks[to].Vmstat
	if a == nil || b == nil {
		return 0, 0, false
	}
	return float64(b["pgpgin"] - a["pgpgin"]), float64(b["pgpgout"] - a["pgpgout"]), true
}
