package redact

import (
	"strings"
	"testing"
)

func nul(args ...string) []byte { return []byte(strings.Join(args, "\x00") + "\x00") }

func TestCmdline(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		want   []byte
		masked int
	}{
		{"assign", nul("app", "--password=hunter2", "-v"), nul("app", "--password=***", "-v"), 1},
		{"next arg", nul("app", "--token", "abc123", "--port", "80"), nul("app", "--token", "***", "--port", "80"), 1},
		{"next arg is a flag", nul("app", "--api-key", "--verbose"), nul("app", "--api-key", "--verbose"), 0},
		{"env style", nul("env", "MYSQL_ROOT_PASSWORD=s3cr3t", "mysqld"), nul("env", "MYSQL_ROOT_PASSWORD=***", "mysqld"), 1},
		{"url credentials", nul("psql", "postgres://app:pw0rd@db:5432/x"), nul("psql", "postgres://app:***@db:5432/x"), 1},
		{"rewritten cmdline", []byte("mysqld --user=mysql --password=hunter2 --port=3306"), []byte("mysqld --user=mysql --password=*** --port=3306"), 1},
		{"rewritten with separate value", []byte("worker --secret hunter2 -x"), []byte("worker --secret *** -x"), 1},
		{"harmless", nul("nginx", "-g", "daemon off;", "--keyboard=us"), nul("nginx", "-g", "daemon off;", "--keyboard=us"), 0},
		{"key word", nul("app", "--tls-key=/etc/k.pem", "--client_secret=x"), nul("app", "--tls-key=***", "--client_secret=***"), 2},
		{"empty", nil, nil, 0},
		{"assign with spaces", nul("app", "--password=correct horse battery"), nul("app", "--password=***"), 1},

		// HTTP headers: curl -H, -H"...", --header=, wget --header=.
		{"curl bearer", nul("curl", "-H", "Authorization: Bearer eyJhbGciOi.x.y", "https://api/x"), nul("curl", "-H", "Authorization: Bearer ***", "https://api/x"), 1},
		{"curl -H attached", nul("curl", "-HAuthorization: Basic dXNlcjpwYXNz", "https://api/x"), nul("curl", "-HAuthorization: Basic ***", "https://api/x"), 1},
		{"curl token scheme", nul("curl", "--header", "authorization:Token abc", "u"), nul("curl", "--header", "authorization:Token ***", "u"), 1},
		{"auth without scheme", nul("curl", "-H", "Authorization: abc123"), nul("curl", "-H", "Authorization: ***"), 1},
		{"wget header", nul("wget", "--header=Cookie: session=abc; theme=dark", "https://x/"), nul("wget", "--header=Cookie: ***", "https://x/"), 1},
		{"set-cookie", nul("curl", "-H", "Set-Cookie: id=a3fWa"), nul("curl", "-H", "Set-Cookie: ***"), 1},
		{"x-api-key", nul("curl", "-H", "X-Api-Key: k123", "-H", "X-Auth-Token: t456"), nul("curl", "-H", "X-Api-Key: ***", "-H", "X-Auth-Token: ***"), 2},
		{"proxy-authorization", nul("curl", "-H", "Proxy-Authorization: Basic Zm9vOmJhcg=="), nul("curl", "-H", "Proxy-Authorization: Basic ***"), 1},
		{"header in sh -c", nul("sh", "-c", "curl -H 'Authorization: Bearer abc' https://x"), nul("sh", "-c", "curl -H 'Authorization: Bearer ***' https://x"), 1},
		{"harmless header", nul("curl", "-H", "Accept: application/json", "-H", "Content-Type: text/plain"), nul("curl", "-H", "Accept: application/json", "-H", "Content-Type: text/plain"), 0},

		// user:password.
		{"curl -u", nul("curl", "-u", "alice:s3cret", "https://x"), nul("curl", "-u", "alice:***", "https://x"), 1},
		{"curl -u attached", nul("curl", "-ualice:s3cret", "https://x"), nul("curl", "-ualice:***", "https://x"), 1},
		{"curl --user=", nul("curl", "--user=alice:s3cret"), nul("curl", "--user=alice:***"), 1},
		{"curl -u no password", nul("curl", "-u", "alice", "https://x"), nul("curl", "-u", "alice", "https://x"), 0},
		{"curl --proxy-user", nul("curl", "--proxy-user", "bob:pw", "x"), nul("curl", "--proxy-user", "bob:***", "x"), 1},
		{"generic --user=", nul("app", "--user=alice:s3cret"), nul("app", "--user=alice:***"), 1},
		{"--user uid:gid", nul("app", "--user=1000:1000"), nul("app", "--user=1000:1000"), 0},
		{"docker --user", nul("docker", "run", "--user", "www-data:www-data", "img"), nul("docker", "run", "--user", "www-data:www-data", "img"), 0},
		{"sort -u is not curl", nul("sort", "-u", "a:b"), nul("sort", "-u", "a:b"), 0},
		{"wget password", nul("wget", "--user=alice", "--password=s3cret", "--http-password=x2"), nul("wget", "--user=alice", "--password=***", "--http-password=***"), 2},

		// mysql: -pSECRET is the password; -p alone prompts.
		{"mysql -p attached", nul("mysql", "-uroot", "-pS3cret!", "db"), nul("mysql", "-uroot", "-p***", "db"), 1},
		{"mysql -p alone", nul("mysql", "-u", "root", "-p", "db"), nul("mysql", "-u", "root", "-p", "db"), 0},
		{"mysql --password alone", nul("mysql", "--password", "db"), nul("mysql", "--password", "db"), 0},
		{"mysql --password=", nul("mysqldump", "--password=S3cret", "db"), nul("mysqldump", "--password=***", "db"), 1},
		{"mariadb -p", nul("/usr/bin/mariadb", "-phunter2"), nul("/usr/bin/mariadb", "-p***"), 1},
		{"mysql -P port", nul("mysql", "-P3306", "-h", "db"), nul("mysql", "-P3306", "-h", "db"), 0},
		{"-p elsewhere is not a password", nul("mkdir", "-p", "/x"), nul("mkdir", "-p", "/x"), 0},
		{"-pX elsewhere", nul("ssh", "-p2222", "host"), nul("ssh", "-p2222", "host"), 0},

		// redis.
		{"redis-server requirepass", nul("redis-server", "*:6379", "--requirepass", "foobared", "--masterauth", "m4"), nul("redis-server", "*:6379", "--requirepass", "***", "--masterauth", "***"), 2},
		{"redis-server rewritten", []byte("redis-server *:6379 --requirepass foobared"), []byte("redis-server *:6379 --requirepass ***"), 1},
		{"redis-cli -a", nul("redis-cli", "-h", "r1", "-a", "foobared", "ping"), nul("redis-cli", "-h", "r1", "-a", "***", "ping"), 1},
		{"redis-cli AUTH", nul("redis-cli", "AUTH", "default", "foobared"), nul("redis-cli", "AUTH", "***", "***"), 2},
		{"-a elsewhere", nul("ls", "-a", "/tmp"), nul("ls", "-a", "/tmp"), 0},

		// Environment assignments in argv.
		{"PGPASSWORD", nul("env", "PGPASSWORD=pw", "psql", "-h", "db"), nul("env", "PGPASSWORD=***", "psql", "-h", "db"), 1},
		{"env in sh -c", nul("sh", "-c", "PGPASSWORD=pw psql -h db"), nul("sh", "-c", "PGPASSWORD=*** psql -h db"), 1},
		{"AWS env", nul("env", "AWS_SECRET_ACCESS_KEY=wJalr", "AWS_ACCESS_KEY_ID=AKIA1"), nul("env", "AWS_SECRET_ACCESS_KEY=***", "AWS_ACCESS_KEY_ID=***"), 2},

		// A path to a secret is not the secret.
		{"password file", nul("app", "--password-file=/run/secrets/db", "--token-file", "/etc/t"), nul("app", "--password-file=/run/secrets/db", "--token-file", "/etc/t"), 0},
		{"password file not a path", nul("app", "--password-file=hunter2"), nul("app", "--password-file=***"), 1},
		{"env file", nul("env", "MYSQL_PASSWORD_FILE=/run/secrets/db"), nul("env", "MYSQL_PASSWORD_FILE=/run/secrets/db"), 0},

		// URLs.
		{"url in option", nul("app", "--dsn=mysql://u:p4ss@db/x"), nul("app", "--dsn=mysql://u:***@db/x"), 1},
		{"url without password", nul("git", "clone", "https://github.com/a/b"), nul("git", "clone", "https://github.com/a/b"), 0},

		// JSON blobs.
		{"json env", nul("app", "--env", `{"AWS_SECRET_ACCESS_KEY": "wJalr", "REGION": "eu-west-1"}`), nul("app", "--env", `{"AWS_SECRET_ACCESS_KEY": "***", "REGION": "eu-west-1"}`), 1},
		{"spring json", nul("java", `-Dspring.application.json={"db":{"url":"jdbc:x","password":"pw"}}`, "-jar", "a.jar"), nul("java", `-Dspring.application.json={"db":{"url":"jdbc:x","password":"***"}}`, "-jar", "a.jar"), 1},
		{"json deep and numbers", nul("app", `{"a":[{"b":{"apiKey":12345,"n":1}}],"token":null}`), nul("app", `{"a":[{"b":{"apiKey":"***","n":1}}],"token":null}`), 1},
		{"json secret object", nul("app", `{"credentials":{"user":"u","pass":"p"},"x":1}`), nul("app", `{"credentials":{"user":"***","pass":"***"},"x":1}`), 2},
		{"json lenient", nul("app", `{'password': 'pw', retries: 3,}`), nul("app", `{'password': '***', retries: 3,}`), 1},
		{"json env assignment", nul("env", `SPRING_APPLICATION_JSON={"spring":{"datasource":{"password":"pw"}}}`), nul("env", `SPRING_APPLICATION_JSON={"spring":{"datasource":{"password":"***"}}}`), 1},
		{"json broken falls back", nul("app", `{"db": {"password": "pw", "x": `), nul("app", `{"db": {"password": "***", "x": `), 1},
		{"ordinary json", nul("app", `{"key":"k1","max_tokens":100,"author":"a","nested":{"v":[1,2]}}`), nul("app", `{"key":"k1","max_tokens":100,"author":"a","nested":{"v":[1,2]}}`), 0},
		{"not json", nul("awk", "{print $1}", "f"), nul("awk", "{print $1}", "f"), 0},
		{"shell braces", nul("find", ".", "-exec", "rm", "{}", ";"), nul("find", ".", "-exec", "rm", "{}", ";"), 0},
	}
	for _, tt := range tests {
		got, m := Cmdline(append([]byte(nil), tt.in...))
		if string(got) != string(tt.want) || len(m) != tt.masked {
			t.Errorf("%s: Cmdline(%q) =\n %q (%d masked: %+v), want\n %q (%d)", tt.name, tt.in, got, len(m), m, tt.want, tt.masked)
		}
		// Masking is idempotent: a bundle redacted again changes nothing.
		again, m2 := Cmdline(append([]byte(nil), got...))
		if string(again) != string(got) || len(m2) != 0 {
			t.Errorf("%s: second pass %q (%d masked: %+v)", tt.name, again, len(m2), m2)
		}
	}
	_, m := Cmdline(nul("app", "--password=hunter2"))
	if m[0].Arg != 1 || m[0].Key != "--password" || m[0].Chars != 7 || m[0].Kind != KindOption {
		t.Errorf("masked = %+v", m[0])
	}
}

// Each rule reports its kind.
func TestKinds(t *testing.T) {
	for in, want := range map[string]string{
		"curl\x00-H\x00Cookie: a=b":        KindHeader,
		"curl\x00-ua:b":                    KindUserPass,
		"mysql\x00-pX":                     KindMySQL,
		"redis-cli\x00-a\x00x":             KindRedis,
		"env\x00PGPASSWORD=x":              KindEnv,
		"psql\x00postgres://u:p@h/":        KindURL,
		"app\x00{\"secret\":\"s\"}":        KindJSON,
		"app\x00--db-password\x00hunter2x": KindOption,
	} {
		_, m := Cmdline([]byte(in))
		if len(m) != 1 || m[0].Kind != want {
			t.Errorf("%q: masked %+v, want one %s", in, m, want)
		}
	}
}

func TestPatterns(t *testing.T) {
	r, err := New([]string{`customer-(\w+)`, `10\.1\.\d+\.\d+`, `(unused)?x`})
	if err != nil {
		t.Fatal(err)
	}
	got, m := r.Cmdline(nul("app", "--name=customer-acme", "--peer", "10.1.2.3", "y"))
	if want := nul("app", "--name=customer-***", "--peer", "***", "y"); string(got) != string(want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if len(m) != 2 || m[0].Kind != KindPattern || m[0].Key != `customer-(\w+)` || m[0].Chars != 4 || m[1].Arg != 3 {
		t.Errorf("masked %+v", m)
	}
	if _, err := New([]string{`ok`, `a(b`}); err == nil || !strings.Contains(err.Error(), `"a(b"`) {
		t.Errorf("bad pattern: err %v", err)
	}
	// A pattern that matches the empty string masks nothing.
	r, _ = New([]string{`z*`})
	if got, m := r.Cmdline(nul("app", "x")); string(got) != string(nul("app", "x")) || len(m) != 0 {
		t.Errorf("empty matches: %q %+v", got, m)
	}
}

func TestText(t *testing.T) {
	r, _ := New([]string{`acme`})
	tests := []struct{ in, want string }{
		{`12:00:00.000001 write(3</tmp/acme.log>, "GET / HTTP/1.1\r\nAuthorization: Bearer abc\r\n"..., 64) = 64`,
			`12:00:00.000001 write(3</tmp/***.log>, "GET / HTTP/1.1\r\nAuthorization: Bearer ***\r\n"..., 64) = 64`},
		{`write(4<socket:[1]>, "{\"password\":\"pw\",\"n\":1}", 23) = 23`, `write(4<socket:[1]>, "{\"password\":\"***\",\"n\":1}", 23) = 23`},
		{`write(5</var/log/x>, "user=a&password=pw&next=1", 25) = 25`, `write(5</var/log/x>, "user=a&password=***&next=1", 25) = 25`},
		{`connect(3, "redis://u:pw@h") = 0`, `connect(3, "redis://u:***@h") = 0`},
		{`write(3</var/log/app.log>, ""..., 4096) = 4096 <0.000012>`, `write(3</var/log/app.log>, ""..., 4096) = 4096 <0.000012>`},
		{`fsync(3</data/db>) = 0`, `fsync(3</data/db>) = 0`},
	}
	for _, tt := range tests {
		got, _ := r.Text(tt.in, 7)
		if got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestIsSecretKey(t *testing.T) {
	for key, want := range map[string]bool{
		"password": true, "dbPassword": true, "AWS_SECRET_ACCESS_KEY": true, "api_key": true, "apiKey": true,
		"private_key": true, "accessToken": true, "refresh_token": true, "credentials": true, "auth": true, "basic_auth": true,
		"passwd": true, "pwd": true, "Authorization": true,
		"key": false, "max_tokens": false, "author": false, "url": false, "user": false, "tokenizer": false, "keyboard": false,
	} {
		if got := IsSecretKey(key); got != want {
			t.Errorf("IsSecretKey(%q) = %v, want %v", key, got, want)
		}
	}
}

func FuzzCmdline(f *testing.F) {
	f.Add(nul("app", "--password=hunter2", "--token", "x", "a://u:p@h"))
	f.Add(nul("curl", "-H", "Authorization: Bearer x", "-u", "a:b", `{"token":[{"a":1}]}`))
	f.Add(nul("mysql", "-pX", "redis-cli", "AUTH", "x"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, _ := Cmdline(append([]byte(nil), in...))
		if strings.Count(string(out), "\x00") != strings.Count(string(in), "\x00") {
			t.Fatalf("argument count changed: %q -> %q", in, out)
		}
	})
}

func FuzzText(f *testing.F) {
	f.Add(`write(3, "Cookie: a\r\n{\"password\":[1,{\"x\":\"y\"}]}", 9) = 9`)
	f.Fuzz(func(t *testing.T, in string) {
		r := &Redactor{}
		out, _ := r.Text(in, 0)
		if again, m := r.Text(out, 0); again != out && len(m) == 0 {
			t.Fatalf("second pass changed %q without masking", out)
		}
	})
}

// A pattern sees a command line's arguments separated by spaces; a match
// across arguments masks each part and keeps them apart.
func TestPatternAcrossArguments(t *testing.T) {
	r, _ := New([]string{`--db-pass (\S+)`, `acme corp`})
	got, m := r.Cmdline(nul("app", "--db-pass", "hunter2", "--org", "acme corp", "x"))
	if want := nul("app", "--db-pass", "***", "--org", "***", "x"); string(got) != string(want) || len(m) != 2 || m[0].Arg != 2 || m[0].Chars != 7 {
		t.Errorf("got %q %+v", got, m)
	}
	r, _ = New([]string{`user (\w+ \w+)`})
	got, m = r.Cmdline(nul("app", "user", "bob", "smith"))
	if want := nul("app", "user", "***", "***"); string(got) != string(want) || len(m) != 1 || m[0].Chars != 8 {
		t.Errorf("got %q %+v", got, m)
	}
	if again, m := r.Cmdline(got); string(again) != string(got) || len(m) != 0 {
		t.Errorf("second pass %q %+v", again, m)
	}
}
