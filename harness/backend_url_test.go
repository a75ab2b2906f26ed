package harness

import (
	"errors"
	"strings"
	"testing"

	"github.com/concbench/concbench/workloads/resp"
)

func TestParseServerURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url, scheme string
		hosts       string // joined by space
		cred        resp.Credentials
		path        string
	}{
		{"redis://127.0.0.1:6379", "redis", "127.0.0.1:6379", resp.Credentials{}, ""},
		{"redis://:s3cret@127.0.0.1:6379", "redis", "127.0.0.1:6379", resp.Credentials{Password: "s3cret"}, ""},
		{"redis://alice:pa%3Ass@localhost:7000/", "redis", "localhost:7000", resp.Credentials{User: "alice", Password: "pa:ss"}, "/"},
		{"redis://[::1]:6379/0", "redis", "[::1]:6379", resp.Credentials{}, "/0"},
		{"redis://:pw@a:1,b:2,[::1]:3", "redis", "a:1 b:2 [::1]:3", resp.Credentials{Password: "pw"}, ""},
		{"redis://u:p%40ss@a:1,b:2/0", "redis", "a:1 b:2", resp.Credentials{User: "u", Password: "p@ss"}, "/0"},
		{"concbench://tok@10.0.0.1:6380,10.0.0.2:6380", "concbench", "10.0.0.1:6380 10.0.0.2:6380", resp.Credentials{User: "tok"}, ""},
		{"concbench://10.0.0.1:6380", "concbench", "10.0.0.1:6380", resp.Credentials{}, ""},
		{"concbench://:t%2Fk@h:1", "concbench", "h:1", resp.Credentials{Password: "t/k"}, ""},
	} {
		u, err := parseServerURL(tt.url, tt.scheme, "FORM")
		if err != nil || strings.Join(u.hosts, " ") != tt.hosts || u.cred != tt.cred || u.path != tt.path {
			t.Errorf("parseServerURL(%q) = %q %+v %q, %v; want %q %+v %q", tt.url, u.hosts, u.cred, u.path, err, tt.hosts, tt.cred, tt.path)
		}
	}
	for _, tt := range []struct{ url, want string }{
		{"redis://127.0.0.1", `no host:port in "127.0.0.1"`},
		{"http://h:1", "it does not start with redis://"},
		{"redis:/h:1", "it does not start with redis://"},
		{"redis://h:1?db=1", "options after the address"},
		{"redis://h:1#x", "options after the address"},
		{"redis://:topsecret@", "no host:port"},
		{"redis://:topsecret@h:x:1", `no host:port in "h:x:1"`},
		{"redis://:topsecret@h:1,", `no host:port in ""`},
		{"redis://:topsecret@h:1,h:1", "h:1 is listed twice"},
		{"redis://:topsecret@h:0", `port "0"`},
		{"redis://:topsecret@h:65536", `port "65536"`},
		{"redis://:top%zzsecret@h:1", "invalid URL escape"},
		{"concbench://topsecret@h", `no host:port in "h"`},
	} {
		_, err := parseServerURL(tt.url, "redis", "FORM")
		if strings.HasPrefix(tt.url, "concbench") {
			_, err = parseServerURL(tt.url, "concbench", "FORM")
		}
		if !errors.Is(err, ErrBadBackendURL) || !strings.Contains(err.Error(), tt.want) || !strings.HasSuffix(err.Error(), "(want FORM)") {
			t.Errorf("parseServerURL(%q): %v; want ErrBadBackendURL with %q and the form wanted", tt.url, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "topsecret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

func TestRedactServerURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"redis://:pw@h:1", `"redis://:xxxxx@h:1"`},
		{"redis://alice:pw@h:1,g:2/0", `"redis://alice:xxxxx@h:1,g:2/0"`},
		{"redis://alice@h:1", `"redis://alice@h:1"`},
		{"concbench://tok@h:1", `"concbench://xxxxx@h:1"`},
		{"concbench://:tok@h:1", `"concbench://:xxxxx@h:1"`},
		{"redis://h:1", `"redis://h:1"`},
		{"redis://:p@w@h:1", `"redis://:xxxxx@h:1"`},
	} {
		if got := redactServerURL(tt.in); got != tt.want {
			t.Errorf("redactServerURL(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
