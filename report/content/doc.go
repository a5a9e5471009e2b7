// Package content is a report as data: the verdict, the evidence chain,
// the findings, the mitigations, monitoring and alerts, and the appendix
// tables, as the analysis decided them. The analyzer fills it in; package
// report only renders it (Markdown, HTML, JSON) and decides nothing.
package content
