// Package strace parses the output of `strace -f -tt -T -y` (and the -ttt,
// -yy and stderr forms) into syscalls: it reads every line form strace 4.x
// to 6.x prints (REFERENCE-IO.md 7.2), joins "<unfinished ...>" with its
// "<... resumed>" line per PID, and decodes fd path decorations and string
// escapes. It is a pure function of the trace text.
package strace
