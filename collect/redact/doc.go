// Package redact masks values that look like secrets in command lines and
// in lines of text (strace output), so that a bundle can be attached to a
// ticket that leaves the company.
package redact
