package redact

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"
)

// Mask replaces every secret value. Its length is fixed so that it does not
// tell the secret's length.
const Mask = "***"

// Rules names the built-in rules, as the manifest records them: a bundle
// says which forms its redaction knew.
const Rules = "built-in/2: secret options and variables, URL passwords, credential HTTP headers, user:password, mysql -p, redis-cli -a and AUTH, JSON secret keys"

// Kinds of masked value, by the rule that found it.
const (
	KindOption   = "option"       // --password=x, --token x
	KindEnv      = "env"          // PGPASSWORD=x
	KindURL      = "url-password" // scheme://user:x@host
	KindHeader   = "http-header"  // Authorization: Bearer x, Cookie: x
	KindUserPass = "user-password"
	KindMySQL    = "mysql-password" // mysql -px
	KindRedis    = "redis-password" // redis-cli -a x, AUTH x
	KindJSON     = "json"           // {"password": "x"}
	KindPattern  = "pattern"        // a --redact pattern; Key is the pattern
)

// Masked describes one value that was replaced.
type Masked struct {
	// Arg is the index of the argument in the command line (the line's
	// index for Text).
	Arg int
	// Kind is the rule that masked it; Key is the option, variable,
	// header or JSON key that made it look secret, or the pattern.
	Kind string
	Key  string
	// Chars is how many bytes were removed.
	Chars int
}

// Redactor masks with the built-in rules and user patterns. The zero
// value has no patterns.
type Redactor struct {
	patterns []*regexp.Regexp
}

// New returns a Redactor with user patterns (RE2 syntax): each match, or
// its first capture group when the pattern has one, is masked. The error
// names the pattern that does not compile.
func New(patterns []string) (*Redactor, error) {
	r := &Redactor{}
	for _, p := range patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", p, err)
		}
		r.patterns = append(r.patterns, re)
	}
	return r, nil
}

// Patterns returns the user patterns as given.
func (r *Redactor) Patterns() []string {
	out := make([]string, len(r.patterns))
	for i, re := range r.patterns {
		out[i] = re.String()
	}
	return out
}

// Cmdline masks secrets in the raw text of /proc/PID/cmdline with the
// built-in rules and no user pattern; see Redactor.Cmdline.
func Cmdline(raw []byte) ([]byte, []Masked) { return (&Redactor{}).Cmdline(raw) }

// Cmdline masks secrets in the raw text of /proc/PID/cmdline, whose
// arguments are separated by NUL bytes. A process that rewrote its command
// line into one space-separated string ("mysqld --password=x") is handled
// word by word. It returns the masked text and what was masked; the number
// of arguments never changes.
func (r *Redactor) Cmdline(raw []byte) ([]byte, []Masked) {
	if len(raw) == 0 {
		return raw, nil
	}
	args := strings.Split(string(raw), "\x00")
	c := &cmdline{prog: program(args)}
	for i, a := range args {
		if a == "" {
			continue
		}
		c.arg = i
		args[i] = c.argument(a)
	}
	return []byte(r.userPatterns(strings.Join(args, "\x00"), 0, &c.masked)), c.masked
}

// Text masks secrets in one line of text (a strace line, whose payloads
// may hold a request's headers or a JSON body): credential headers, JSON
// secret keys, URL passwords, secret-named key=value pairs, then the user
// patterns. arg is recorded as Masked.Arg.
func (r *Redactor) Text(line string, arg int) (string, []Masked) {
	var masked []Masked
	add := func(s string, m []Masked) string {
		for _, x := range m {
			x.Arg = arg
			masked = append(masked, x)
		}
		return s
	}
	line = add(maskHeaders(line, true))
	line = add(maskJSON(line))
	line = add(maskURLs(line))
	line = add(maskAssignments(line))
	return r.userPatterns(line, arg, &masked), masked
}

// userPatterns masks the matches of the user patterns in s. In a command
// line (NUL-separated) a pattern sees the arguments separated by spaces,
// as a shell would show them ("--db-pass (\S+)"), and a match across
// arguments masks each argument's part, so the arguments stay apart;
// Masked.Arg is then the argument where the match starts, counted from
// arg.
func (r *Redactor) userPatterns(s string, arg int, masked *[]Masked) string {
	for _, re := range r.patterns {
		seen := strings.ReplaceAll(s, "\x00", " ")
		var edits []edit
		for _, m := range re.FindAllStringSubmatchIndex(seen, -1) {
			start, end := m[0], m[1]
			if len(m) >= 4 {
				start, end = m[2], m[3]
			}
			if start < 0 {
				continue // the group did not take part in the match
			}
			e, ok := newEdit(s, start, end)
			if !ok {
				continue
			}
			if part := s[e.start:e.end]; strings.Contains(part, "\x00") {
				pieces := strings.Split(part, "\x00")
				secret := false
				for i, p := range pieces {
					secret = secret || (p != "" && p != Mask)
					if p != "" {
						pieces[i] = Mask
					}
				}
				if !secret {
					continue
				}
				e.repl = strings.Join(pieces, "\x00")
			}
			edits = append(edits, e)
			*masked = append(*masked, Masked{Arg: arg + strings.Count(s[:e.start], "\x00"), Kind: KindPattern, Key: re.String(), Chars: e.end - e.start - strings.Count(s[e.start:e.end], "\x00")})
		}
		s = splice(s, edits)
	}
	return s
}

// program is the base name of the command (the first word of a rewritten
// command line).
func program(args []string) string {
	p := args[0]
	if i := strings.IndexByte(p, ' '); i >= 0 && (len(args) == 1 || (len(args) == 2 && args[1] == "")) {
		p = p[:i]
	}
	return path.Base(p)
}

var (
	// urlCredentials is the password of scheme://user:password@host.
	urlCredentials = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/:@\s]*:)([^@/\s]+)(@)`)
	// assignment is name=value inside text ("user=a&password=x").
	assignment = regexp.MustCompile(`([A-Za-z_][A-Za-z0-9_.-]*)=([^&\s"',;]+)`)
)

// maskURLs masks the passwords of URLs in s.
func maskURLs(s string) (string, []Masked) {
	var edits []edit
	var masked []Masked
	for _, m := range urlCredentials.FindAllStringSubmatchIndex(s, -1) {
		if e, ok := newEdit(s, m[4], m[5]); ok {
			edits = append(edits, e)
			masked = append(masked, Masked{Kind: KindURL, Key: "url password", Chars: e.end - e.start})
		}
	}
	return splice(s, edits), masked
}

// maskAssignments masks the values of secret-named name=value pairs in
// text.
func maskAssignments(s string) (string, []Masked) {
	var edits []edit
	var masked []Masked
	for _, m := range assignment.FindAllStringSubmatchIndex(s, -1) {
		name, value := s[m[2]:m[3]], s[m[4]:m[5]]
		if !IsSecretName(name) || namesPath(name, value) {
			continue
		}
		if e, ok := newEdit(s, m[4], m[5]); ok {
			edits = append(edits, e)
			masked = append(masked, Masked{Kind: KindOption, Key: name, Chars: e.end - e.start})
		}
	}
	return splice(s, edits), masked
}

// HasPatterns reports whether r has user patterns.
func (r *Redactor) HasPatterns() bool { return len(r.patterns) > 0 }

// Lines masks each line of text with Text, or with the user patterns
// only when patternsOnly is set (strace output without payloads, where the
// built-in forms cannot occur). Masked.Arg is the line's number, from 1.
// When nothing is masked, text itself is returned.
func (r *Redactor) Lines(text []byte, patternsOnly bool) ([]byte, []Masked) {
	if patternsOnly && !r.HasPatterns() {
		return text, nil
	}
	var b bytes.Buffer
	b.Grow(len(text))
	masked, _ := r.LinesTo(&b, bytes.NewReader(text), patternsOnly)
	if len(masked) == 0 {
		return text, nil
	}
	return b.Bytes(), masked
}

// LinesTo is Lines for a text that streams: it reads src line by line
// and writes each line, masked, to w, so that a trace of any size is
// redacted without being held whole. A line's Masked.Arg is its number,
// from 1. Its error is src's or w's.
func (r *Redactor) LinesTo(w io.Writer, src io.Reader, patternsOnly bool) ([]Masked, error) {
	br := bufio.NewReaderSize(src, 64<<10)
	var masked []Masked
	for n := 1; ; n++ {
		l, err := br.ReadString('\n')
		if len(l) > 0 {
			body := strings.TrimSuffix(l, "\n")
			var out string
			var m []Masked
			if patternsOnly {
				out = r.userPatterns(body, n, &m)
			} else {
				out, m = r.Text(body, n)
			}
			if len(m) > 0 {
				l = out + l[len(body):]
				masked = append(masked, m...)
			}
			if _, werr := io.WriteString(w, l); werr != nil {
				return masked, werr
			}
		}
		if err == io.EOF {
			return masked, nil
		}
		if err != nil {
			return masked, err
		}
	}
}
