package redact

import (
	"regexp"
	"strings"
)

// maxJSONDepth bounds the nesting the scanner follows; deeper text falls
// back to the key: value expression.
const maxJSONDepth = 64

// maskJSON masks, in every JSON object found in s, the values of keys that
// name a secret (IsSecretKey), at any depth; a secret key whose value is
// an object or an array has all its scalars masked. Everything else is
// kept byte for byte, so the JSON keeps its shape. The scanner is lenient
// (single quotes, bare words, trailing commas); text that still does not
// scan is masked by the key: value expression instead.
func maskJSON(s string) (string, []Masked) {
	var edits []edit
	var masked []Masked
	for i := 0; i < len(s); i++ {
		if s[i] != '{' || (i > 0 && !strings.ContainsRune(" \t\n='\"[:,", rune(s[i-1]))) {
			continue
		}
		sc := &jsonScanner{s: s, i: i}
		if !sc.value("", false, 0) {
			rest, m := maskKeyValues(s[i:])
			return splice(s[:i], edits) + rest, append(masked, m...)
		}
		edits = append(edits, sc.edits...)
		masked = append(masked, sc.masked...)
		i = sc.i - 1
	}
	return splice(s, edits), masked
}

// jsonScanner walks one JSON value, recording the spans to mask.
type jsonScanner struct {
	s      string
	i      int
	edits  []edit
	masked []Masked
}

func (p *jsonScanner) space() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// value scans a value at p.i; secret says it is held by a secret key
// (named key), so its scalars are masked.
func (p *jsonScanner) value(key string, secret bool, depth int) bool {
	p.space()
	if p.i >= len(p.s) || depth > maxJSONDepth {
		return false
	}
	switch p.s[p.i] {
	case '{':
		return p.object(key, secret, depth)
	case '[':
		return p.array(key, secret, depth)
	}
	start := p.i
	quoted, ok := p.scalar()
	if !ok {
		return false
	}
	if !secret {
		return true
	}
	inner := p.s[start:p.i]
	if quoted {
		inner = inner[1 : len(inner)-1]
		start++
	} else if inner == "null" || inner == "true" || inner == "false" {
		return true
	}
	if e, ok := newEdit(p.s, start, start+len(inner)); ok {
		if !quoted {
			// A bare number becomes the string "***": the text stays JSON.
			e.repl = `"` + Mask + `"`
		}
		p.edits = append(p.edits, e)
		p.masked = append(p.masked, Masked{Kind: KindJSON, Key: key, Chars: e.end - e.start})
	}
	return true
}

// scalar scans a string ('…' or "…", with backslash escapes) or a bare
// word (a number, true, an unquoted key or value).
func (p *jsonScanner) scalar() (quoted, ok bool) {
	if q := p.s[p.i]; q == '"' || q == '\'' {
		for j := p.i + 1; j < len(p.s); j++ {
			switch p.s[j] {
			case '\\':
				j++
			case q:
				p.i = j + 1
				return true, true
			}
		}
		return false, false
	}
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(",:}] \t\r\n{[\"'", rune(p.s[p.i])) {
		p.i++
	}
	return false, p.i > start
}

func (p *jsonScanner) object(key string, secret bool, depth int) bool {
	p.i++ // {
	for {
		if end, ok := p.end('}'); end || !ok {
			return ok
		}
		start := p.i
		quoted, ok := p.scalar()
		if !ok {
			return false
		}
		k := p.s[start:p.i]
		if quoted {
			k = k[1 : len(k)-1]
		}
		p.space()
		if p.i >= len(p.s) || (p.s[p.i] != ':' && p.s[p.i] != '=') {
			return false
		}
		p.i++
		if !p.value(k, secret || IsSecretKey(k), depth+1) {
			return false
		}
		if !p.separator('}') {
			return false
		}
	}
}

func (p *jsonScanner) array(key string, secret bool, depth int) bool {
	p.i++ // [
	for {
		if end, ok := p.end(']'); end || !ok {
			return ok
		}
		if !p.value(key, secret, depth+1) || !p.separator(']') {
			return false
		}
	}
}

// end skips space and takes the closing bracket of an object or array if
// it is next (end); ok is false when the text ends first.
func (p *jsonScanner) end(closing byte) (end, ok bool) {
	p.space()
	if p.i >= len(p.s) {
		return false, false
	}
	if p.s[p.i] == closing {
		p.i++
		return true, true
	}
	return false, true
}

// separator takes the comma after a member, or sees the closing bracket.
func (p *jsonScanner) separator(closing byte) bool {
	p.space()
	if p.i >= len(p.s) {
		return false
	}
	switch p.s[p.i] {
	case ',':
		p.i++
		return true
	case closing:
		return true
	}
	return false
}

// keyValue is a key: value or key=value pair, the key quoted or not, the
// value a quoted string or a bare word; quotes may be escaped (\"), as
// strace writes a JSON payload.
var keyValue = regexp.MustCompile(`(\\?["']?)([A-Za-z0-9_.-]+)(\\?["']?)[ \t]*[:=][ \t]*(\\"(?:[^"\\]|\\[^"])*\\"|"(?:[^"\\]|\\.)*"|'[^']*'|[^,;&}\]\s"'\\]+)`)

// maskKeyValues masks the values of key: value pairs whose key names a
// secret: the fallback for JSON that does not scan.
func maskKeyValues(s string) (string, []Masked) {
	var edits []edit
	var masked []Masked
	for _, m := range keyValue.FindAllStringSubmatchIndex(s, -1) {
		key := s[m[4]:m[5]]
		if !IsSecretKey(key) {
			continue
		}
		start, end := m[8], m[9]
		if strings.HasPrefix(s[start:end], `\"`) {
			start, end = start+2, end-2
		} else if q := s[start]; q == '"' || q == '\'' {
			start, end = start+1, end-1
		}
		if e, ok := newEdit(s, start, end); ok {
			edits = append(edits, e)
			masked = append(masked, Masked{Kind: KindJSON, Key: key, Chars: e.end - e.start})
		}
	}
	return splice(s, edits), masked
}
