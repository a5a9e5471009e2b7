// Package procfs parses the raw text of Linux /proc, /sys and cgroup files
// as the iorca collector captured them. Every parser is a pure function of
// bytes: none touches the filesystem, so the analyzer can replay a bundle
// anywhere. One kernel file is one Go file named after it, with the kernel
// document that defines it in its doc comment. Unknown keys are ignored so
// that a newer kernel does not break parsing.
package procfs
