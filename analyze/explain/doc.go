// Package explain turns a diagnosis into the whole report as data
// (report/content): the verdict, the evidence chain an SRE would follow
// with its figures and sources, the findings, the mitigations grouped by
// horizon, monitoring and alert rules for this incident, and the appendix
// tables. Every judgement is made here or in the rules; package report
// only renders.
package explain
