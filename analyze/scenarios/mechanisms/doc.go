// Package mechanisms holds live end-to-end scenarios, one per common way
// of making a disk wait that is not a write() with O_SYNC or an fsync()
// (issue 24): each reproduces the incident on a slow disk, collects a
// bundle with the real collector and checks that the report names the
// mechanism, through the real iorca binary. They are apart from the
// other scenario packages so that each test binary stays well within go
// test's ten minutes.
package mechanisms
