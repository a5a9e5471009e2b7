// Package alerts builds the Prometheus alert rules a report proposes as
// data, and evaluates each on the bundle's own counters with PromQL's
// semantics, so that a report proposes only rules that would have fired.
package alerts
