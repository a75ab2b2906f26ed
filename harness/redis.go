package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// redisTimeout bounds each request to a Redis server once it answered:
// each pipelined batch of SETs while loading keys.
const redisTimeout = 30 * time.Second

// redisURLForm is what a --backend redis:// URL looks like.
const redisURLForm = "redis://[USER:PASSWORD@]HOST:PORT[,HOST:PORT...]"

// RedisBackend serves fetch steps from one or more real Redis (or Valkey,
// or any server speaking RESP) servers: it stores every key a spec fetches
// with pipelined SETs on every server, all specs at once before the first
// cell (Preload), or else before each spec's first cell. A spec's backend
// instance i maps to server i modulo the number of servers, so fanout's
// instances spread over them. A real Redis cannot inject latency, so
// specs must ask for latency 0 (the run command arranges that).
type RedisBackend struct {
	addrs []string
	cred  resp.Credentials
	// Secret is mixed into the values loaded (workloads.SecretValue); 0
	// means none. Set it before Preload or the first Prepare.
	Secret uint64
	loaded map[*workloads.Spec]bool
}

// NewRedisBackend contacts every server that rawURL names,
// redis://[user:password@]host:port[,host:port...]
// (redis://:password@host:port when the servers have only a password, as a
// Redis without ACLs), all at once: it connects, sends AUTH when the URL
// has a password, and checks that each answers PING. A wrong URL is an
// error wrapping ErrBadBackendURL; a server that cannot be reached or
// refuses is one line that names it and says why.
func NewRedisBackend(ctx context.Context, rawURL string) (*RedisBackend, error) {
	u, err := parseServerURL(rawURL, "redis", redisURLForm)
	if err != nil {
		return nil, err
	}
	if u.path != "" && u.path != "/" && u.path != "/0" {
		return nil, fmt.Errorf("%w %s: database %s: only database 0 is used (want %s)", ErrBadBackendURL, redactServerURL(rawURL), u.path, redisURLForm)
	}
	r := &RedisBackend{addrs: u.hosts, cred: u.cred, loaded: map[*workloads.Spec]bool{}}
	clients, err := contactAll(ctx, r.addrs, r.cred, redisTimeout, "password", redisName)
	if err != nil {
		return nil, err
	}
	for _, c := range clients {
		c.Close()
	}
	return r, nil
}

func redisName(addr string) string { return "redis backend " + addr }

// errorf returns an error that names the server.
func (r *RedisBackend) errorf(addr, format string, args ...any) error {
	return fmt.Errorf("%s: %w", redisName(addr), fmt.Errorf(format, args...))
}

// Credentials returns the user and password of the URL (none when it had
// none): every connection to the servers must log in with them first, the
// strategies' own included (see BackendCredentials).
func (r *RedisBackend) Credentials() resp.Credentials { return r.cred }

// Describe implements BackendProvider.
func (r *RedisBackend) Describe() string {
	return "redis " + strings.Join(r.addrs, ",") + " (no injected latency)"
}

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
		return fmt.Errorf("redis backend: cannot inject latency, but %s asks for latency=%v", spec.Workload, spec.Backend.Latency)
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
	return spread(spec.Backend.Instances, r.addrs), nil
}

// spread maps n backend instances onto servers, round robin: instance i
// is served by servers[i%len(servers)].
func spread(n int, servers []string) []string {
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = servers[i%len(servers)]
	}
	return addrs
}

// loadBatch is how many SETs load pipelines in one write: a few hundred
// kilobytes of requests at the default value sizes.
const loadBatch = 512

// load SETs every key of spec on every server, the servers at once. Every
// server holds every key, so any mapping of instances to servers finds
// its values.
func (r *RedisBackend) load(ctx context.Context, spec *workloads.Spec) error {
	keys := spec.Keys()
	errs := make([]error, len(r.addrs))
	var wg sync.WaitGroup
	for i, addr := range r.addrs {
		wg.Go(func() { errs[i] = r.loadServer(ctx, addr, spec, keys) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// loadServer SETs keys on one server, loadBatch commands a pipelined
// batch.
func (r *RedisBackend) loadServer(ctx context.Context, addr string, spec *workloads.Spec, keys []string) error {
	c, err := contact(ctx, addr, r.cred, redisTimeout, "password")
	if err != nil {
		return r.errorf(addr, "%w", err)
	}
	defer c.Close()
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
			return r.errorf(addr, "load the keys of %s %s: %w", spec.Workload, spec.Params, err)
		}
	}
	return nil
}

// Close implements BackendProvider.
func (r *RedisBackend) Close() error { return nil }
