// Package redact masks values that look like secrets in command lines, so
// that a bundle can be attached to a ticket that leaves the company.
package redact

import (
	"bytes"
	"regexp"
	"strings"
)

// Mask replaces every secret value. Its length is fixed so that it does not
// tell the secret's length.
const Mask = "***"

// Masked describes one value that was replaced.
type Masked struct {
	// Arg is the index of the argument in the command line.
	Arg int
	// Key is the option or variable name that made it look secret.
	Key string
	// Chars is how many bytes were removed.
	Chars int
}

// secretWords are option-name words that mark the value as a secret when a
// word of the name equals one of them ("--api-key", "--db_pass").
var secretWords = map[string]bool{
	"key": true, "pass": true, "pwd": true, "auth": true, "pw": true,
	"apikey": true, "passphrase": true, "bearer": true, "cookie": true,
}

// secretParts mark the value as a secret when the name merely contains
// them ("--dbpassword", "MYSQL_ROOT_PASSWORD", "--client-secret").
var secretParts = []string{"passw", "secret", "token", "credential", "private", "apikey", "api_key", "access_key", "sessionid"}

// IsSecretName reports whether an option or variable named name likely
// holds a secret.
func IsSecretName(name string) bool {
	n := strings.ToLower(strings.TrimLeft(name, "-"))
	for _, p := range secretParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	for _, w := range strings.FieldsFunc(n, func(r rune) bool { return r == '-' || r == '_' || r == '.' }) {
		if secretWords[w] {
			return true
		}
	}
	return false
}

var (
	// optionAssign is "--name=value" or "-name=value".
	optionAssign = regexp.MustCompile(`^(--?[A-Za-z0-9][A-Za-z0-9_.-]*)=(.+)$`)
	// envAssign is "NAME=value" as passed to env(1) or a shell.
	envAssign = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=(.+)$`)
	// optionAlone is "--name" whose value is the next argument.
	optionAlone = regexp.MustCompile(`^--?[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	// urlCredentials is the password of scheme://user:password@host.
	urlCredentials = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://[^/:@\s]*:)([^@/\s]+)(@)`)
)

// Cmdline masks secrets in the raw text of /proc/PID/cmdline, whose
// arguments are separated by NUL bytes. A process that rewrote its command
// line into one space-separated string ("mysqld --password=x") is handled
// word by word. It returns the masked text and what was masked.
func Cmdline(raw []byte) ([]byte, []Masked) {
	args := bytes.Split(raw, []byte{0})
	var masked []Masked
	maskNext := ""
	for i, a := range args {
		if len(a) == 0 {
			continue
		}
		if maskNext != "" && !bytes.HasPrefix(a, []byte("-")) {
			masked = append(masked, Masked{Arg: i, Key: maskNext, Chars: len(a)})
			args[i] = []byte(Mask)
			maskNext = ""
			continue
		}
		maskNext = ""
		words := strings.Split(string(a), " ")
		changed := false
		for j, w := range words {
			nw, key, n := maskWord(w)
			if n > 0 {
				masked = append(masked, Masked{Arg: i, Key: key, Chars: n})
				words[j] = nw
				changed = true
			}
			// "--password hunter2" inside one rewritten argument.
			if optionAlone.MatchString(w) && IsSecretName(w) && j+1 < len(words) && !strings.HasPrefix(words[j+1], "-") {
				masked = append(masked, Masked{Arg: i, Key: w, Chars: len(words[j+1])})
				words[j+1] = Mask
				changed = true
			}
		}
		if changed {
			args[i] = []byte(strings.Join(words, " "))
		}
		if len(words) == 1 && optionAlone.Match(a) && IsSecretName(string(a)) {
			maskNext = string(a)
		}
	}
	return bytes.Join(args, []byte{0}), masked
}

// maskWord masks the value of one word if it looks secret, returning the
// new word, the key and the number of bytes removed (0 if unchanged).
func maskWord(w string) (string, string, int) {
	if m := optionAssign.FindStringSubmatch(w); m != nil && IsSecretName(m[1]) && m[2] != Mask {
		return m[1] + "=" + Mask, m[1], len(m[2])
	}
	if m := envAssign.FindStringSubmatch(w); m != nil && IsSecretName(m[1]) && m[2] != Mask {
		return m[1] + "=" + Mask, m[1], len(m[2])
	}
	if loc := urlCredentials.FindStringSubmatchIndex(w); loc != nil {
		n := loc[5] - loc[4]
		return w[:loc[4]] + Mask + w[loc[5]:], "url password", n
	}
	return w, "", 0
}
