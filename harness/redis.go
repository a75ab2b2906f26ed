package harness

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
//
// It checks every round against the servers' own count of the GETs they
// ran (INFO commandstats, cmdstat_get's calls; see verify_backend.go),
// when the servers answer INFO commandstats: Counted says whether they do.
// A Redis has no count of requests in flight, so a strategy's concurrency
// is not checked there. The servers must serve this run alone while it
// runs: another client's GETs would count in its rounds.
type RedisBackend struct {
	addrs []string
	cred  resp.Credentials
	// Secret is mixed into the values loaded (workloads.SecretValue) and
	// into the references of the specs prepared (Spec.UseSecret). 0, the
	// default, draws a fresh random one at the first Preload or Prepare
	// (workloads.NewSecret) and keeps it here; a test may set its own
	// before.
	Secret uint64
	loaded map[*workloads.Spec]bool

	// stats are connections to every server, in the order of addrs, that
	// read its INFO commandstats; nil when a server refused it (uncounted
	// says why).
	stats     []*resp.Client
	uncounted string
	getsAt    int64 // the servers' GET calls when the round began
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
	r.stats = clients
	if _, err := r.getCalls(ctx); err != nil {
		r.closeStats()
		r.uncounted = err.Error()
	}
	return r, nil
}

// Counted reports whether the servers count the GETs they run (INFO
// commandstats), so that every round is checked against them; when not,
// the reason.
func (r *RedisBackend) Counted() (bool, string) { return r.stats != nil, r.uncounted }

// runSecret implements secretHolder.
func (r *RedisBackend) runSecret() uint64 { return drawSecret(&r.Secret) }

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
	d := "redis " + strings.Join(r.addrs, ",") + " (no injected latency"
	if r.stats == nil {
		d += "; GETs not counted: " + r.uncounted
	}
	return d + ")"
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
	spec.UseSecret(r.runSecret())
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
	secret := r.runSecret()
	keys := spec.Keys(secret)
	errs := make([]error, len(r.addrs))
	var wg sync.WaitGroup
	for i, addr := range r.addrs {
		wg.Go(func() { errs[i] = r.loadServer(ctx, addr, spec, secret, keys) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// loadServer SETs keys on one server, loadBatch commands a pipelined
// batch.
func (r *RedisBackend) loadServer(ctx context.Context, addr string, spec *workloads.Spec, secret uint64, keys []string) error {
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
			values = append(values, workloads.SecretValue(secret, k, spec.Backend.ValueSize))
		}
		if err := c.SetMany(keys[lo:hi], values); err != nil {
			return r.errorf(addr, "load the keys of %s %s: %w", spec.Workload, spec.Params, err)
		}
	}
	return nil
}

// getCalls returns the GETs the servers have run since they started
// (or since CONFIG RESETSTAT), summed: INFO commandstats' cmdstat_get
// calls. A connection that broke (a server's idle timeout closes one
// that waited through a long cell) is dialled again, once.
func (r *RedisBackend) getCalls(ctx context.Context) (int64, error) {
	var sum int64
	for i := range r.stats {
		n, err := r.serverGetCalls(i)
		var serverErr *resp.ServerError
		if err != nil && !errors.As(err, &serverErr) {
			r.stats[i].Close()
			c, cerr := contact(ctx, r.addrs[i], r.cred, redisTimeout, "password")
			if cerr != nil {
				return 0, fmt.Errorf("%s: %w", redisName(r.addrs[i]), cerr)
			}
			r.stats[i] = c
			n, err = r.serverGetCalls(i)
		}
		if err != nil {
			return 0, fmt.Errorf("%s: INFO commandstats: %w", redisName(r.addrs[i]), err)
		}
		sum += n
	}
	return sum, nil
}

// serverGetCalls returns server i's GET calls (see getCalls).
func (r *RedisBackend) serverGetCalls(i int) (int64, error) {
	rep, err := r.stats[i].Do("INFO", "commandstats")
	if err == nil && rep.Kind == resp.KindError {
		err = rep.Err()
	}
	if err != nil {
		return 0, err
	}
	return parseGetCalls(string(rep.Str))
}

// parseGetCalls reads the calls of GET from INFO commandstats' text:
// "cmdstat_get:calls=12,usec=30,...". A server that has run no GET has
// no such line: 0.
func parseGetCalls(info string) (int64, error) {
	for _, line := range strings.Split(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_get:")
		if !ok {
			continue
		}
		for _, field := range strings.Split(rest, ",") {
			if v, ok := strings.CutPrefix(field, "calls="); ok {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return 0, fmt.Errorf("cmdstat_get calls %q: %w", v, err)
				}
				return n, nil
			}
		}
		return 0, fmt.Errorf("cmdstat_get line without calls: %q", line)
	}
	return 0, nil
}

func (r *RedisBackend) closeStats() {
	for _, c := range r.stats {
		c.Close()
	}
	r.stats = nil
}

// Close implements BackendProvider: it closes the connections that read
// the servers' counts.
func (r *RedisBackend) Close() error {
	r.closeStats()
	return nil
}
