package model

import (
	"maps"
	"testing"

	"github.com/iorca/iorca/analyze/strace"
)

// A rotation's truncate of the live log, in each form strace prints it;
// a failed one, a truncate to a size, and an O_TRUNC open for reading are
// none.
func TestTruncatedFiles(t *testing.T) {
	tr := strace.Parse([]byte(`22643 16:50:40.100000 ftruncate(5</srv/logs/app.log>, 0) = 0 <0.000120>
22643 16:50:40.200000 ftruncate(6</srv/logs/other.log>, 4096) = 0 <0.000020>
22643 16:50:40.300000 truncate("/srv/logs/b.log", 0) = 0 <0.000020>
22643 16:50:40.400000 openat(AT_FDCWD</>, "/srv/logs/c.log", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 7</srv/logs/c.log> <0.000030>
22643 16:50:40.500000 openat(AT_FDCWD</>, "/srv/logs/d.log", O_RDONLY|O_TRUNC) = 8</srv/logs/d.log> <0.000030>
22643 16:50:40.600000 ftruncate(9</srv/logs/e.log>, 0) = -1 EROFS (Read-only file system) <0.000010>
`))
	want := map[string]int{"/srv/logs/app.log": 1, "/srv/logs/b.log": 1, "/srv/logs/c.log": 1}
	if got := truncatedFiles(tr); !maps.Equal(got, want) {
		t.Errorf("truncated files %v, want %v", got, want)
	}
}
