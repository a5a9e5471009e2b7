package redact

import (
	"regexp"
	"strings"
)

// headerName finds an HTTP header that carries credentials, as curl -H,
// wget --header and raw requests (in strace payloads) write it: at the
// start of an argument, after -H, '=', a quote, white space or an escaped
// newline. Its value starts where the match ends.
var headerName = regexp.MustCompile(`(?i)(^|[\s'"=]|-H|\\n)(proxy-authorization|authorization|set-cookie|cookie|x-api-key|x-auth-token)[ \t]*:[ \t]*`)

// authScheme is the scheme word an Authorization value starts with
// ("Bearer", "Basic", "Token", "Digest"...), kept so that the masked
// header still says what kind of credential it was.
var authScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*[ \t]+`)

// maskHeaders masks the values of credential headers in s. In text (a
// strace line) a value also ends at a double quote or a backslash escape.
func maskHeaders(s string, text bool) (string, []Masked) {
	var edits []edit
	var masked []Masked
	last := 0
	for _, m := range headerName.FindAllStringSubmatchIndex(s, -1) {
		start := m[1]
		if m[0] < last {
			continue // inside the value of the header before
		}
		end := headerValueEnd(s, start, s[m[2]:m[3]], text)
		name := s[m[4]:m[5]]
		if strings.HasSuffix(strings.ToLower(name), "authorization") {
			if sc := authScheme.FindStringIndex(s[start:end]); sc != nil {
				start += sc[1]
			}
		}
		last = end
		if e, ok := newEdit(s, start, end); ok {
			edits = append(edits, e)
			masked = append(masked, Masked{Kind: KindHeader, Key: name, Chars: e.end - e.start})
		}
	}
	return splice(s, edits), masked
}

// headerValueEnd is where a header value that starts at i ends: at a
// line end, at the quote that opened it, and in text at a double quote or
// a backslash (strace writes "\r\n" as escapes).
func headerValueEnd(s string, i int, opened string, text bool) int {
	stop := "\r\n\x00"
	if opened == "'" || opened == `"` {
		stop += opened
	}
	if text {
		stop += `"\`
	}
	if j := strings.IndexAny(s[i:], stop); j >= 0 {
		return i + j
	}
	return len(s)
}

// edit is a span of a string to replace with repl, or with Mask when
// repl is "".
type edit struct {
	start, end int
	repl       string
}

// newEdit is the span [start, end) of s, unless it is empty or already
// the mask (a bundle redacted twice is masked once).
func newEdit(s string, start, end int) (edit, bool) {
	v := strings.TrimRight(s[start:end], " \t")
	end = start + len(v)
	if v == "" || v == Mask {
		return edit{}, false
	}
	return edit{start: start, end: end}, true
}

// splice replaces the spans of edits, which are in order and do not
// overlap, with Mask.
func splice(s string, edits []edit) string {
	if len(edits) == 0 {
		return s
	}
	var b strings.Builder
	at := 0
	for _, e := range edits {
		if e.start < at {
			continue
		}
		b.WriteString(s[at:e.start])
		if e.repl != "" {
			b.WriteString(e.repl)
		} else {
			b.WriteString(Mask)
		}
		at = e.end
	}
	b.WriteString(s[at:])
	return b.String()
}
