// Package rules is the catalogue of findings: each rule reads a window
// (package window) and says what is wrong with the node's IO, who causes
// it, the evidence from the bundle and what to do about it. A rule is one
// place — its file, named after its id, holds its check, its role in the
// verdict and what its findings call for — and Rules lists them in a
// fixed order, so the same bundle always gives the same findings. Shared
// evidence and advice helpers live beside them.
package rules
