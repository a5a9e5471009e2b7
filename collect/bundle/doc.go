// Package bundle is the iorca bundle format, version 1: the one contract
// between the collector, which writes bundles, and the analyzer, which reads
// them.
//
// A bundle is a tar archive compressed with zstd. Its first member is
// manifest.json (see Manifest); every other member holds raw kernel text as
// the collector read it, either as one file or as a sequence of frames (see
// Frame) when many small files are captured together. The Reader streams
// members, never extracts to disk, enforces size limits and verifies each
// member's SHA-256 against the manifest.
package bundle
