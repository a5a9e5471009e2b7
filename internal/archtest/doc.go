// Package archtest holds no code: its test checks the module's one-way
// dependencies (DESIGN.md, Layout) with go list, one table row per
// import that must never exist.
package archtest
