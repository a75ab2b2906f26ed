package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// ErrBadRedisURL is wrapped by NewRedisBackend's error when the URL itself
// is wrong (a usage error), as opposed to a server that cannot be reached
// or refuses the password.
var ErrBadRedisURL = errors.New("bad redis URL")

// redisTimeout bounds each request to the Redis server: connecting, AUTH,
// PING, and each pipelined batch of SETs while loading keys.
const redisTimeout = 30 * time.Second

// RedisBackend serves fetch steps from a real Redis (or any server speaking
// RESP): it stores every key a spec fetches with pipelined SETs, all specs
// at once before the first cell (Preload), or else before each spec's first
// cell. A real Redis cannot inject latency, so specs must ask for latency 0
// (the run command arranges that); every backend instance of a spec maps to
// the same server.
type RedisBackend struct {
	addr, user, password string
	// Secret is mixed into the values loaded (workloads.SecretValue); 0
	// means none. Set it before Preload or the first Prepare.
	Secret uint64
	loaded map[*workloads.Spec]bool
}

// NewRedisBackend connects to the server that rawURL names,
// redis://[user:password@]host:port (redis://:password@host:port when the
// server has only a password, as a Redis without ACLs), sends AUTH when
// the URL has a password, and checks that the server answers PING.
func NewRedisBackend(ctx context.Context, rawURL string) (*RedisBackend, error) {
	addr, user, password, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	r := &RedisBackend{addr: addr, user: user, password: password, loaded: map[*workloads.Spec]bool{}}
	c, err := r.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Ping(); err != nil {
		return nil, r.errorf("%w", err)
	}
	return r, nil
}

// parseRedisURL splits redis://[user:password@]host:port.
func parseRedisURL(raw string) (addr, user, password string, err error) {
	bad := func(format string, args ...any) (string, string, string, error) {
		return "", "", "", fmt.Errorf("%w %q: %s (want redis://[USER:PASSWORD@]HOST:PORT)", ErrBadRedisURL, redact(raw), fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("%v", errors.Unwrap(err))
	}
	if u.Scheme != "redis" {
		return bad("scheme %q", u.Scheme)
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || port == "" {
		return bad("no host:port")
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return bad("port %q", port)
	}
	if u.Path != "" && u.Path != "/" && u.Path != "/0" {
		return bad("database %s: only database 0 is used", u.Path)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return bad("options after the address")
	}
	if u.User != nil {
		user = u.User.Username()
		password, _ = u.User.Password()
	}
	return u.Host, user, password, nil
}

// redact hides the password of a URL that did not parse, as well as one
// can without parsing it.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable, not shown: it may hold a password)"
}

// errorf returns an error that names the backend.
func (r *RedisBackend) errorf(format string, args ...any) error {
	return fmt.Errorf("redis backend %s: %w", r.addr, fmt.Errorf(format, args...))
}

// dial connects and authenticates.
func (r *RedisBackend) dial(ctx context.Context) (*resp.Client, error) {
	c, err := resp.Dial(ctx, r.addr, redisTimeout)
	if err != nil {
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			return nil, r.errorf("no answer within %v: %w", redisTimeout, err)
		}
		return nil, r.errorf("%w", err)
	}
	if r.password != "" {
		if err := c.Auth(r.user, r.password); err != nil {
			c.Close()
			return nil, r.errorf("%w", err)
		}
	}
	return c, nil
}

// Credentials returns the user and password of the URL (both empty when
// it had none): every connection to the server must send AUTH with them
// first, the strategies' own included.
func (r *RedisBackend) Credentials() (user, password string) { return r.user, r.password }

// Describe implements BackendProvider.
func (r *RedisBackend) Describe() string { return "redis " + r.addr + " (no injected latency)" }

// Preload stores the keys of every spec that fetches, before any cell
// runs, so that a failure to load is the backend's, reported once, rather
// than the failure of whichever cell first needed the keys. Call it after
// the plan is built; Prepare then loads nothing.
func (r *RedisBackend) Preload(ctx context.Context, specs []*workloads.Spec) error {
	for _, spec := range specs {
		if spec.Backend.Instances == 0 || r.loaded[spec] {
			continue
		}
		if err := r.check(spec); err != nil {
			return err
		}
		if err := r.load(ctx, spec); err != nil {
			return err
		}
		r.loaded[spec] = true
	}
	return nil
}

func (r *RedisBackend) check(spec *workloads.Spec) error {
	if spec.Backend.Latency != 0 {
		return r.errorf("cannot inject latency, but %s asks for latency=%v", spec.Workload, spec.Backend.Latency)
	}
	return nil
}

// Prepare implements BackendProvider.
func (r *RedisBackend) Prepare(ctx context.Context, spec *workloads.Spec) ([]string, error) {
	if err := r.check(spec); err != nil {
		return nil, err
	}
	if !r.loaded[spec] {
		if err := r.load(ctx, spec); err != nil {
			return nil, err
		}
		r.loaded[spec] = true
	}
	addrs := make([]string, spec.Backend.Instances)
	for i := range addrs {
		addrs[i] = r.addr
	}
	return addrs, nil
}

// loadBatch is how many SETs load pipelines in one write: a few hundred
// kilobytes of requests at the default value sizes.
const loadBatch = 512

// load SETs every key of spec, loadBatch commands a pipelined batch.
func (r *RedisBackend) load(ctx context.Context, spec *workloads.Spec) error {
	c, err := r.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	keys := spec.Keys()
	values := make([][]byte, 0, loadBatch)
	for lo := 0; lo < len(keys); lo += loadBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+loadBatch, len(keys))
		values = values[:0]
		for _, k := range keys[lo:hi] {
			values = append(values, workloads.SecretValue(r.Secret, k, spec.Backend.ValueSize))
		}
		if err := c.SetMany(keys[lo:hi], values); err != nil {
			return r.errorf("load the keys of %s %s: %w", spec.Workload, spec.Params, err)
		}
	}
	return nil
}

// Close implements BackendProvider.
func (r *RedisBackend) Close() error { return nil }
