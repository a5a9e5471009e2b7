package redact

import (
	"strings"
	"unicode"
)

// secretWords are option-name words that mark the value as a secret when a
// word of the name equals one of them ("--api-key", "--db_pass").
var secretWords = map[string]bool{
	"key": true, "pass": true, "pwd": true, "auth": true, "pw": true,
	"apikey": true, "passphrase": true, "bearer": true, "cookie": true,
}

// secretParts mark the value as a secret when the name merely contains
// them ("--dbpassword", "MYSQL_ROOT_PASSWORD", "--client-secret", redis'
// "--requirepass" and "--masterauth").
var secretParts = []string{"passw", "secret", "token", "credential", "private", "apikey", "api_key", "access_key", "sessionid", "requirepass", "masterauth"}

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

// pathSuffixes end the names of options that hold where a secret is kept,
// not the secret: "--password-file", "--token_path", "MYSQL_PASSWORD_FILE".
var pathSuffixes = []string{"file", "path", "dir"}

// namesPath reports whether an option or variable named name holds a path
// (its last word is file, path or dir) and value looks like one: such a
// value says where the secret is, which a reader of the report needs, and
// is kept. A value that is not a path ("--password-file=hunter2") is still
// masked.
func namesPath(name, value string) bool {
	words := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return r == '-' || r == '_' || r == '.' })
	if len(words) < 2 {
		return false
	}
	last := words[len(words)-1]
	for _, s := range pathSuffixes {
		if last == s {
			return strings.HasPrefix(value, "/") || strings.HasPrefix(value, "./") || strings.HasPrefix(value, "../") || strings.HasPrefix(value, "~/")
		}
	}
	return false
}

// jsonSecretParts mark a JSON key as naming a secret when its letters and
// digits, lower-cased, contain one ("AWS_SECRET_ACCESS_KEY", "dbPassword",
// "private_key").
var jsonSecretParts = []string{"password", "passwd", "passphrase", "secret", "apikey", "accesskey", "privatekey", "credential", "authorization", "sessionid", "cookie"}

// jsonSecretWords mark a JSON key as naming a secret when one of its words
// (split at punctuation and lower-to-upper case changes) is one of them:
// "auth", "basic_auth", "pwd".
var jsonSecretWords = map[string]bool{"pwd": true, "pass": true, "pw": true, "auth": true, "token": true}

// IsSecretKey reports whether a key of a JSON object (or of a key: value
// text) names a secret. It is narrower than IsSecretName: ordinary JSON
// has keys such as "key" or "max_tokens" that hold no secret, while a key
// ending in "token" ("accessToken", "refresh_token") does.
func IsSecretKey(key string) bool {
	var flat strings.Builder
	var words []string
	var word strings.Builder
	prevLower := false
	for _, r := range key {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			words, prevLower = appendWord(words, &word), false
			continue
		}
		if unicode.IsUpper(r) && prevLower {
			words = appendWord(words, &word)
		}
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		lr := unicode.ToLower(r)
		word.WriteRune(lr)
		flat.WriteRune(lr)
	}
	words = appendWord(words, &word)
	f := flat.String()
	for _, p := range jsonSecretParts {
		if strings.Contains(f, p) {
			return true
		}
	}
	if strings.HasSuffix(f, "token") {
		return true
	}
	for _, w := range words {
		if jsonSecretWords[w] {
			return true
		}
	}
	return false
}

func appendWord(words []string, w *strings.Builder) []string {
	if w.Len() > 0 {
		words = append(words, w.String())
		w.Reset()
	}
	return words
}
