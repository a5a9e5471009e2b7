package rules

// Watch is a metric or an alert rule a finding calls for in the report's
// monitoring section: a layer to watch, or an alert ready to paste.
type Watch int

// What a finding can call for.
const (
	// WatchTasks: how long tasks wait for IO (PSI).
	WatchTasks Watch = iota + 1
	// WatchContainerLog: a container's log size and its runtime's writes.
	WatchContainerLog
	// WatchProcess: write_bytes against wchar per process.
	WatchProcess
	// WatchOverlay: the device and filesystem holding the upper layers.
	WatchOverlay
	// WatchMemory: dirty, writeback and swap counters.
	WatchMemory
	// AlertDevice: %util and await of the finding's device.
	AlertDevice
	// AlertIOPressure: tasks stalled on IO.
	AlertIOPressure
	// AlertFilesystemFull: space near exhaustion.
	AlertFilesystemFull
	// AlertContainerWrites: the culprit container's write operations.
	AlertContainerWrites
	// AlertFilesystemFilling: the free space of the filesystem that
	// receives the finding's file, extrapolated (predict_linear).
	AlertFilesystemFilling
	// AlertSyncStorm: cache flushes against writes on the device.
	AlertSyncStorm
	// AlertReadOnly: a filesystem of the failing device remounted
	// read-only, and its kernel IO error lines (a log-based rule).
	AlertReadOnly
	// WatchSwap: the node's swap traffic and the memory cgroups' limit
	// hits.
	WatchSwap
	// AlertSwapIO: pages swapped in and out a second.
	AlertSwapIO
	// AlertThrottle: a cgroup's IO rate on a device against the limit
	// it has there (cAdvisor's container_blkio_device_usage_total).
	AlertThrottle
)
