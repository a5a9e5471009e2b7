package redact

import (
	"regexp"
	"strings"
)

var (
	// optionAssign is "--name=value" or "-name=value".
	optionAssign = regexp.MustCompile(`(?s)^(--?[A-Za-z0-9][A-Za-z0-9_.-]*)=(.+)$`)
	// envAssign is "NAME=value" as passed to env(1) or a shell.
	envAssign = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=(.+)$`)
	// optionAlone is "--name" whose value is the next argument.
	optionAlone = regexp.MustCompile(`^--?[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// cmdline is the state of masking one command line.
type cmdline struct {
	prog   string
	arg    int
	masked []Masked
	// next masks the next word or argument (the value of "--token x").
	next *pending
}

// pending is a value expected in the next word or argument.
type pending struct {
	kind, key string
	// userPass masks only what follows the first colon (user:password).
	userPass bool
	// rest masks every later argument (redis-cli AUTH [user] password).
	rest bool
}

// argument masks one argument.
func (c *cmdline) argument(a string) string {
	if p := c.next; p != nil && (p.rest || !strings.HasPrefix(a, "-")) {
		if !p.rest {
			c.next = nil
		}
		return c.value(p, a)
	}
	c.next = nil
	a = c.collect(maskHeaders(a, false))
	a = c.collect(maskJSON(a))
	if m := optionAssign.FindStringSubmatch(a); m != nil && IsSecretName(m[1]) {
		// One argument is one value, spaces and all ("--password=a b").
		return c.word(a)
	}
	words := strings.Split(a, " ")
	for j, w := range words {
		if p := c.next; p != nil && (p.rest || !strings.HasPrefix(w, "-")) && w != "" {
			if !p.rest {
				c.next = nil
			}
			words[j] = c.value(p, w)
			continue
		}
		c.next = nil
		words[j] = c.word(w)
	}
	return strings.Join(words, " ")
}

// collect records what a rule over the whole argument masked.
func (c *cmdline) collect(s string, masked []Masked) string {
	for _, m := range masked {
		m.Arg = c.arg
		c.masked = append(c.masked, m)
	}
	return s
}

// mask replaces w[i:] with Mask, unless it is empty or already masked.
func (c *cmdline) mask(kind, key, w string, i int) string {
	v := w[i:]
	if v == "" || v == Mask {
		return w
	}
	c.masked = append(c.masked, Masked{Arg: c.arg, Kind: kind, Key: key, Chars: len(v)})
	return w[:i] + Mask
}

// value masks the value a pending option was waiting for.
func (c *cmdline) value(p *pending, v string) string {
	if p.userPass {
		return c.userPass(p.key, v, 0)
	}
	if namesPath(p.key, v) {
		return v
	}
	return c.mask(p.kind, p.key, v, 0)
}

// userPass masks the password of user:password in w[i:]. Outside curl a
// numeric part after the colon is a group id (--user 1000:1000), not a
// password.
func (c *cmdline) userPass(key, w string, i int) string {
	colon := strings.IndexByte(w[i:], ':')
	if colon < 0 {
		return w // curl -u user prompts for the password
	}
	pass := w[i+colon+1:]
	if c.prog != "curl" && strings.Trim(pass, "0123456789") == "" {
		return w
	}
	return c.mask(KindUserPass, key, w, i+colon+1)
}

// word masks one word by the program's own options, then by the generic
// rules.
func (c *cmdline) word(w string) string {
	switch {
	case isMySQL(c.prog):
		// -p alone and --password alone prompt: the next argument is a
		// database name, not a password. -pSECRET is the password.
		if w == "-p" || w == "--password" {
			return w
		}
		if strings.HasPrefix(w, "-p") {
			return c.mask(KindMySQL, "-p", w, 2)
		}
	case c.prog == "redis-cli":
		if w == "-a" {
			c.next = &pending{kind: KindRedis, key: "-a"}
			return w
		}
		if strings.EqualFold(w, "auth") {
			c.next = &pending{kind: KindRedis, key: "AUTH", rest: true}
			return w
		}
	case c.prog == "curl":
		if w == "-u" || w == "-U" {
			c.next = &pending{kind: KindUserPass, key: w, userPass: true}
			return w
		}
		if strings.HasPrefix(w, "-u") || strings.HasPrefix(w, "-U") {
			return c.userPass(w[:2], w, 2)
		}
	}
	if m := optionAssign.FindStringSubmatch(w); m != nil {
		name := m[1]
		switch {
		case IsSecretName(name) && !namesPath(name, m[2]):
			return c.mask(KindOption, name, w, len(name)+1)
		case isUserOption(name) && !containerTools[c.prog]:
			return c.userPass(name, w, len(name)+1)
		}
	}
	if m := envAssign.FindStringSubmatch(w); m != nil && IsSecretName(m[1]) && !namesPath(m[1], m[2]) {
		return c.mask(KindEnv, m[1], w, len(m[1])+1)
	}
	if optionAlone.MatchString(w) {
		switch {
		case IsSecretName(w):
			c.next = &pending{kind: KindOption, key: w}
		case isUserOption(w) && !containerTools[c.prog]:
			c.next = &pending{kind: KindUserPass, key: w, userPass: true}
		}
		return w
	}
	return c.collect(maskURLs(w))
}

// isMySQL reports whether prog is a MySQL or MariaDB client, whose -p
// takes its password attached (-pSECRET) or prompts.
func isMySQL(prog string) bool {
	return strings.HasPrefix(prog, "mysql") || strings.HasPrefix(prog, "mariadb")
}

// isUserOption reports whether an option takes user[:password].
func isUserOption(name string) bool { return name == "--user" || name == "--proxy-user" }

// containerTools take --user USER[:GROUP], never a password.
var containerTools = map[string]bool{
	"docker": true, "podman": true, "nerdctl": true, "ctr": true, "crictl": true,
	"buildah": true, "runc": true, "crun": true, "kubectl": true, "systemd-run": true,
}
