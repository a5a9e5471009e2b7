package rules

// Evidence figures read beyond the rule that writes them: by the
// confidence grading (a rule's deciding figure), the verdict and the
// report. JSON consumers see the same keys.
const (
	FigWrites = "writes"
	// FigFailedCalls counts a process's traced calls that failed (EIO,
	// EROFS): what fails is part of an incident's impact.
	FigFailedCalls         = "failed_calls"
	FigAvgBytes            = "avg_bytes"
	FigWritesPerS          = "writes_per_s"
	FigSyncsPerS           = "syncs_per_s"
	FigSyncAfterWrite      = "sync_after_write"
	FigDeviceSharePct      = "device_share_pct"
	FigSharePct            = "share_pct"
	FigRatio               = "ratio"
	FigRequestsPerWrite    = "requests_per_write"
	FigDeviceBytesPerWrite = "device_bytes_per_write"
	FigCPUPct              = "cpu_pct"
	FigUtilPct             = "util_pct"
	FigAquSz               = "aqu_sz"
	FigAwaitMS             = "await_ms"
	FigSomePct             = "some_pct"
	FigDStatePct           = "dstate_pct"
	FigIODelayPct          = "iodelay_pct"
	FigUsePct              = "use_pct"
	FigDirtySharePct       = "dirty_share_pct"
	FigPausedS             = "paused_s"
	FigLimitBytes          = "limit_bytes"
	FigDeviceWkBPS         = "device_wkbps"
	FigFilesPerS           = "files_per_s"
	FigDurableFiles        = "durable_files"
	FigMetaReadsPct        = "meta_reads_pct"
)
