// Package rules reads a bundle's model and emits findings: what is wrong
// with the node's IO, who causes it, the evidence from the bundle, and
// what to do about it. Each rule is one small function in a file named
// after its id; they run in the fixed order of Rules, so the same bundle
// always gives the same findings.
package rules
