// Package report renders a diagnosis as the product's output: a Markdown
// root-cause report (verdict, evidence chain, findings, mitigations,
// monitoring, appendix), the same as JSON (schema iorca.report/v1) or as a
// self-contained HTML page. The output is a pure function of the bundle:
// no clock, no machine paths, everything sorted.
package report
