package content

// The schemas of iorca's JSON documents, each named once: the renderers
// write them, the readers check them.
const (
	// ReportSchema names the JSON of a report (iorca report --format
	// json), documented in the README.
	ReportSchema = "iorca.report/v1"
	// FleetSchema names the JSON of a fleet review (iorca fleet).
	FleetSchema = "iorca.fleet/v1"
	// ComparisonSchema names the JSON of a comparison (iorca diff).
	ComparisonSchema = "iorca.diff/v1"
)
