package procfs

import "fmt"

// lineError is a parse error that says which file and line.
func lineError(file string, line int, format string, args ...any) error {
	return fmt.Errorf("%s: line %d: %s", file, line, fmt.Sprintf(format, args...))
}
