package harness

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// TestRealRedisGivesTheSameDigests runs the I/O workloads against a real
// redis-server and against the built-in backend. runCell fails a cell whose
// any task differs from the scalar reference, so a clean cell with no task
// errors on both backends means equal results, task by task, and so equal
// digests.
func TestRealRedisGivesTheSameDigests(t *testing.T) {
	addr := testenv.RedisServer(t)
	redis, err := NewRedisBackend(context.Background(), "redis://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer redis.Close()
	builtin := &InProcessBackends{}
	defer builtin.Close()
	for _, w := range []struct {
		name string
		v    params.Values
	}{
		{"fanout", params.Values{"tasks": "50", "backends": "2", "latency": "0s"}},
		{"webrequest", params.Values{"tasks": "30", "latency": "0s"}},
		{"mixed", params.Values{"tasks": "20", "cpu": "10us", "latency": "0s"}},
	} {
		spec := smallSpec(t, w.name, w.v)
		for _, provider := range []BackendProvider{redis, builtin} {
			c := blockingCell(t, spec)
			res := runCell(context.Background(), c, Options{Timeout: time.Minute, FetchTimeout: 5 * time.Second, Backends: provider})
			if res.Err != nil || res.Errors != 0 {
				t.Fatalf("%s on %s: %v (%d task errors, first %v)", w.name, provider.Describe(), res.Err, res.Errors, res.FirstError)
			}
			if res.Verified != res.Tasks || res.Tasks < len(spec.Tasks) {
				t.Fatalf("%s on %s: %d of %d tasks verified", w.name, provider.Describe(), res.Verified, res.Tasks)
			}
		}
	}
	if _, err := redis.Prepare(context.Background(), smallSpec(t, "fanout", params.Values{"tasks": "5", "latency": "1ms"})); err == nil {
		t.Error("the redis backend accepted a spec that needs injected latency")
	}
}

// The URL's own checks (parseServerURL's are in TestParseServerURL):
// only database 0, and never the password in the error.
func TestRedisURLDatabase(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"redis://:topsecret@h:1/3", "redis://:topsecret@h:1,g:2/db"} {
		_, err := NewRedisBackend(context.Background(), bad)
		if !errors.Is(err, ErrBadBackendURL) || !strings.Contains(err.Error(), "only database 0 is used") || strings.Contains(err.Error(), "topsecret") {
			t.Errorf("NewRedisBackend(%q): %v; want ErrBadBackendURL about the database, without the password", bad, err)
		}
	}
}

// NewRedisBackend sends AUTH with the URL's password; a server that refuses
// or cannot be reached is an error that is not a usage error, names the
// server, and says why (not ", <nil>").
func TestRedisAuthAndErrors(t *testing.T) {
	const password = "pw-for-test"
	addr := testenv.RedisServer(t, "--requirepass", password)
	ctx := context.Background()
	r, err := NewRedisBackend(ctx, "redis://:"+password+"@"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Prepare(ctx, smallSpec(t, "fanout", params.Values{"tasks": "5", "latency": "0s"})); err != nil {
		t.Fatalf("Prepare with the password: %v", err)
	}
	if cred := BackendCredentials(r); cred != (resp.Credentials{Password: password}) {
		t.Errorf("BackendCredentials = %+v", cred)
	}
	for _, tt := range []struct{ url, want string }{
		{"redis://" + addr, "the server requires a password, and the URL gives none (NOAUTH"},
		{"redis://:wrong@" + addr, "wrong password: the server refused it (WRONGPASS"},
		{"redis://nobody:" + password + "@" + addr, "wrong password: the server refused it (WRONGPASS"},
		{"redis://127.0.0.1:1", "connection refused: nothing listens there"},
		{"redis://:" + password + "@" + addr + ",127.0.0.1:1", "redis backend 127.0.0.1:1: connection refused"},
	} {
		_, err := NewRedisBackend(ctx, tt.url)
		if err == nil || errors.Is(err, ErrBadBackendURL) || !strings.Contains(err.Error(), tt.want) ||
			strings.Contains(err.Error(), "<nil>") || !strings.HasPrefix(err.Error(), "redis backend 127.0.0.1:") {
			t.Errorf("NewRedisBackend(%q): %v; want an error naming the server with %q", tt.url, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), password) {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}

// Preload loads every spec's keys before any cell, with the secret's
// values; Prepare then loads nothing; a failed load names the backend.
func TestRedisPreload(t *testing.T) {
	addr := testenv.RedisServer(t)
	ctx := context.Background()
	r, err := NewRedisBackend(ctx, "redis://"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Secret = 0x5eed
	fanout := smallSpec(t, "fanout", params.Values{"tasks": "40", "latency": "0s"})
	hash := smallSpec(t, "hash", params.Values{"tasks": "4"})
	if err := r.Preload(ctx, []*workloads.Spec{fanout, hash, fanout}); err != nil {
		t.Fatal(err)
	}
	c, err := resp.Dial(ctx, addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Get("item:7")
	if err != nil || string(v) != string(workloads.SecretValue(r.Secret, "item:7", 64)) {
		t.Fatalf("GET item:7 after Preload = %q, %v; want the secret's value", v, err)
	}
	if r, err := c.Do("DBSIZE"); err != nil || r.Int != 40 {
		t.Fatalf("DBSIZE = %v, %v; want 40", r, err)
	}
	if _, err := c.Do("FLUSHALL"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Prepare(ctx, fanout); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Do("DBSIZE"); err != nil || r.Int != 0 {
		t.Fatalf("Prepare loaded keys again after Preload: DBSIZE %v, %v", r, err)
	}

	// A server out of memory: the error names the backend and the spec.
	small := testenv.RedisServer(t, "--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
	r2, err := NewRedisBackend(ctx, "redis://"+small)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	big := smallSpec(t, "fanout", params.Values{"tasks": "20000", "size": "1024", "latency": "0s"})
	err = r2.Preload(ctx, []*workloads.Spec{big})
	if err == nil || !strings.HasPrefix(err.Error(), "redis backend "+small+": load the keys of fanout ") || !strings.Contains(err.Error(), "OOM") {
		t.Fatalf("Preload into a full redis: %v", err)
	}
}

// Several servers: fanout's instances spread over them, every server holds
// every key (loaded once per server, with AUTH), and a cell verifies.
func TestRedisSeveralServers(t *testing.T) {
	const password = "pw-several"
	a := testenv.RedisServer(t, "--requirepass", password)
	b := testenv.RedisServer(t, "--requirepass", password)
	ctx := context.Background()
	r, err := NewRedisBackend(ctx, "redis://:"+password+"@"+a+","+b)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Secret = 0xfeed
	spec := smallSpec(t, "fanout", params.Values{"tasks": "30", "backends": "3", "latency": "0s"})
	addrs, err := r.Prepare(ctx, spec)
	if err != nil || strings.Join(addrs, " ") != a+" "+b+" "+a {
		t.Fatalf("Prepare = %v, %v; want instances 0, 1, 2 on %s, %s, %s", addrs, err, a, b, a)
	}
	keys := spec.Keys(r.Secret)
	for _, addr := range []string{a, b} {
		c, err := resp.Dial(ctx, addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Login(BackendCredentials(r)); err != nil {
			t.Fatal(err)
		}
		if n, err := c.Do("DBSIZE"); err != nil || n.Int != int64(len(keys)) {
			t.Fatalf("%s holds %v keys (%v), want every key of the spec, %d", addr, n, err, len(keys))
		}
		last := keys[len(keys)-1]
		if v, err := c.Get(last); err != nil || string(v) != string(workloads.SecretValue(r.Secret, last, 64)) {
			t.Fatalf("GET %s on %s = %q, %v; want the secret's value", last, addr, v, err)
		}
		if _, err := c.Do("FLUSHALL"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Prepare(ctx, spec); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{a, b} {
		c, err := contact(ctx, addr, BackendCredentials(r), time.Second, "password")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := c.Do("DBSIZE"); err != nil || n.Int != 0 {
			t.Fatalf("the second Prepare of a spec loaded its keys again into %s: DBSIZE %v, %v", addr, n, err)
		}
		c.Close()
	}

	// Without passwords, a cell of the blocking strategy runs on both and
	// verifies.
	c, d := testenv.RedisServer(t), testenv.RedisServer(t)
	open, err := NewRedisBackend(ctx, "redis://"+c+","+d)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	fan := smallSpec(t, "fanout", params.Values{"tasks": "40", "backends": "2", "latency": "0s"})
	res := runCell(ctx, blockingCell(t, fan), Options{Timeout: time.Minute, FetchTimeout: 5 * time.Second, Backends: open})
	if res.Err != nil || res.Errors != 0 || res.Verified != res.Tasks {
		t.Fatalf("fanout over two redis servers: %v, %d task errors (first %v), %d of %d verified", res.Err, res.Errors, res.FirstError, res.Verified, res.Tasks)
	}
	if !strings.Contains(open.Describe(), c+","+d) {
		t.Errorf("Describe = %q, want both servers", open.Describe())
	}
}
