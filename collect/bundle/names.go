package bundle

import (
	"fmt"
	"strings"
)

// ManifestName is the name of the first member of every bundle.
const ManifestName = "manifest.json"

// maxNameLen bounds member names; real names are short ("ticks/000001.frames").
const maxNameLen = 255

// CheckName returns an error if name cannot be a member of a bundle: it must
// be a clean, relative, slash-separated path of printable ASCII, with no "."
// or ".." element, so that no reader can be tricked into writing outside a
// directory even if it did extract members.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("empty member name")
	case len(name) > maxNameLen:
		return fmt.Errorf("member name longer than %d bytes", maxNameLen)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("absolute member name %q", name)
	}
	for _, r := range name {
		if r <= ' ' || r > '~' || r == '\\' {
			return fmt.Errorf("member name %q has a character outside printable ASCII", name)
		}
	}
	for _, elem := range strings.Split(name, "/") {
		switch elem {
		case "":
			return fmt.Errorf("member name %q has an empty path element", name)
		case ".", "..":
			return fmt.Errorf("member name %q has a %q element", name, elem)
		}
	}
	return nil
}
