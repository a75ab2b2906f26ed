package harness

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
)

// BackendProvider starts and configures the servers that fetch steps talk to.
type BackendProvider interface {
	// Prepare returns the address of every instance the spec's backend
	// needs, serving its keys' values with its injected latency, and
	// gives the spec the secret of those values (Spec.UseSecret), so that
	// its reference is theirs.
	Prepare(ctx context.Context, spec *workloads.Spec) ([]string, error)
	// Describe says what the provider is, for the run's header.
	Describe() string
	Close() error
}

// ErrBackendDied is wrapped by Prepare's error when a built-in backend
// child died again after its one restart: the I/O cells that follow cannot
// run, and the error says so once instead of failing each of them.
var ErrBackendDied = errors.New("backend died")

// BackendRestart records a built-in backend child that had died and was
// started again by Prepare, for meta.json and the log.
type BackendRestart struct {
	Instance int       `json:"instance"` // its index in the spec's backends
	Addr     string    `json:"addr"`     // the address it had
	NewAddr  string    `json:"new_addr"` // the address of its replacement
	Exit     string    `json:"exit"`     // how it ended, as Wait said ("signal: killed")
	At       time.Time `json:"at"`
}

func (r BackendRestart) String() string {
	return fmt.Sprintf("backend %d at %s died (%s) and was restarted at %s", r.Instance, r.Addr, r.Exit, r.NewAddr)
}

// instance is one running built-in backend server, and the control
// connection the provider speaks to it on.
type instance struct {
	addr string
	pid  int // of a child process; 0 in process
	ctl  *backend.Control
	stop func() error
	// died reports why the instance's process ended, or nil while it runs.
	// An in-process instance never dies on its own.
	died func() error
	// restarted is set on the replacement of an instance that died, which
	// is not restarted again.
	restarted bool
}

// launchFunc starts instance i of a configuration: in this process or as a
// child process.
type launchFunc func(ctx context.Context, i int, cfg backend.Config) (*instance, error)

// builtin is what InProcessBackends and ChildBackends share: they differ
// only in how an instance starts. It reuses running servers between cells
// while the value size, the secret and the instance count allow (latency
// is changed through the control connection) and watches for instances
// that died.
type builtin struct {
	running  []*instance
	cfg      backend.Config // the configuration they run with; Latency is kept up to date
	restarts []BackendRestart
}

// prepare implements Prepare for both providers: it starts or reuses the
// servers, then gives spec the secret they hold (Spec.UseSecret), so that
// its reference is that of their values.
func (b *builtin) prepare(ctx context.Context, spec *workloads.Spec, secret uint64, launch launchFunc) ([]string, error) {
	addrs, err := b.start(ctx, spec, secret, launch)
	if err != nil {
		return nil, err
	}
	spec.UseSecret(secret)
	return addrs, nil
}

// start starts the servers spec needs, or reuses the running ones.
func (b *builtin) start(ctx context.Context, spec *workloads.Spec, secret uint64, launch launchFunc) ([]string, error) {
	want := backendConfig(spec.Backend, secret)
	if len(b.running) == 0 || b.cfg.ValueSize != want.ValueSize || b.cfg.Secret != secret || len(b.running) < spec.Backend.Instances {
		if err := b.close(); err != nil {
			return nil, err
		}
		for i := 0; i < spec.Backend.Instances; i++ {
			in, err := launch(ctx, i, want)
			if err != nil {
				b.close()
				return nil, fmt.Errorf("start backend %d: %w", i, err)
			}
			b.running = append(b.running, in)
		}
		b.cfg = want
		return b.addrs(), nil
	}
	if err := b.revive(ctx, launch); err != nil {
		return nil, err
	}
	if b.cfg.Latency != want.Latency {
		for _, in := range b.running {
			if err := in.ctl.SetLatency(want.Latency); err != nil {
				return nil, fmt.Errorf("set latency: %w", err)
			}
		}
		b.cfg.Latency = want.Latency
	}
	return b.addrs(), nil
}

// revive restarts, once each, the instances whose process has died.
func (b *builtin) revive(ctx context.Context, launch launchFunc) error {
	for i, in := range b.running {
		err := in.died()
		if err == nil {
			continue
		}
		in.stop() // reaped already; closes the control connection
		if in.restarted {
			return fmt.Errorf("%w: backend %d at %s died again after its restart (%v); the I/O cells cannot run", ErrBackendDied, i, in.addr, err)
		}
		next, lerr := launch(ctx, i, b.cfg)
		if lerr != nil {
			return fmt.Errorf("%w: backend %d at %s died (%v) and could not be restarted: %v", ErrBackendDied, i, in.addr, err, lerr)
		}
		next.restarted = true
		b.running[i] = next
		b.restarts = append(b.restarts, BackendRestart{Instance: i, Addr: in.addr, NewAddr: next.addr, Exit: err.Error(), At: time.Now()})
	}
	return nil
}

func (b *builtin) addrs() []string {
	addrs := make([]string, len(b.running))
	for i, in := range b.running {
		addrs[i] = in.addr
	}
	return addrs
}

// close stops every instance. An instance that had died already is not an
// error here: Prepare replaces it (and records it, when it restarts one).
func (b *builtin) close() error {
	var first error
	for _, in := range b.running {
		dead := in.died() != nil
		if err := in.stop(); err != nil && !dead && first == nil {
			first = err
		}
	}
	b.running = nil
	return first
}

// Restarts returns the backend children that died and were restarted,
// in order: record them with the run (meta.json) and in its log.
func (b *builtin) Restarts() []BackendRestart { return append([]BackendRestart(nil), b.restarts...) }

// Windows reads the measurement window of every running instance, in
// instance order, and starts the next (CONCBENCH.WINDOW; see
// backend.Window for what each count means). Call it right before a
// counted round, to start the round's windows, and right after, to read
// them. Instances a cell does not use report zero requests.
//
// MaxInFlight is per server. Over several servers the sum of their maxima
// bounds the most requests outstanding at once from above (the maxima may
// come at different moments), so check a strategy's limit against each
// server, and that it is reached with a one-instance spec.
func (b *builtin) Windows() ([]backend.Window, error) {
	ws := make([]backend.Window, len(b.running))
	for i, in := range b.running {
		w, err := in.ctl.Window()
		if err != nil {
			return nil, err
		}
		ws[i] = w
	}
	return ws, nil
}

// Stats returns the counters of every running instance since it started.
func (b *builtin) Stats() ([]backend.Stats, error) {
	sts := make([]backend.Stats, len(b.running))
	for i, in := range b.running {
		st, err := in.ctl.Stats()
		if err != nil {
			return nil, err
		}
		sts[i] = st
	}
	return sts, nil
}

// StartCPUProfiles starts a CPU profile in every running instance
// (CONCBENCH.PROFILE START). In-process instances share this process's
// profiler: it fails while the process profiles itself.
func (b *builtin) StartCPUProfiles() error {
	for i, in := range b.running {
		if err := in.ctl.StartCPUProfile(); err != nil {
			for _, started := range b.running[:i] {
				_, _ = started.ctl.StopCPUProfile()
			}
			return err
		}
	}
	return nil
}

// StopCPUProfiles stops the profiles StartCPUProfiles started and returns
// them in instance order: gzipped pprof, every sample labelled
// side=backend.
func (b *builtin) StopCPUProfiles() ([][]byte, error) {
	profiles := make([][]byte, len(b.running))
	var first error
	for i, in := range b.running {
		p, err := in.ctl.StopCPUProfile()
		if err != nil && first == nil {
			first = err
		}
		profiles[i] = p
	}
	return profiles, first
}

// backendConfig is the configuration of a built-in backend for b.
func backendConfig(b workloads.Backend, secret uint64) backend.Config {
	return backend.Config{Listen: "127.0.0.1:0", ValueSize: b.ValueSize, Latency: backend.Constant(b.Latency),
		Secret: secret, MaxQueuedBytes: queuedBudget(b.ValueSize)}
}

// queuedBudget is the reply budget of a built-in backend serving values of
// size bytes: room for 1024 replies held at once (the strategies' default
// limits keep at most 256 requests outstanding on one server, so the budget
// never throttles them), and at least the server's default.
func queuedBudget(size int) int {
	return max(backend.DefaultMaxQueuedBytes, 1024*(size+32))
}

// dialControl connects to a freshly started instance's control commands.
func dialControl(ctx context.Context, addr string) (*backend.Control, error) {
	ctl, err := backend.DialControl(ctx, addr, "")
	if err == nil {
		err = ctl.Ping()
		if err != nil {
			ctl.Close()
		}
	}
	return ctl, err
}

// InProcessBackends runs the built-in backend inside this process: simplest,
// and what tests use. Its CPU time and allocations count in the cells'
// figures, so runs that report cpu-sec/op use ChildBackends.
//
// It checks every round against the servers' own counts (RoundCheck; see
// verify_backend.go).
type InProcessBackends struct {
	// Secret is mixed into every value the servers derive
	// (backend.Config.Secret) and into the references of the specs
	// prepared (Spec.UseSecret). 0, the default, draws a fresh random one
	// at the first Prepare (workloads.NewSecret) and keeps it here; a test
	// may set its own before. A change restarts the servers.
	Secret uint64
	// Faults, for tests, are injected by every server started
	// (backend.Config.Faults; instance i seeded with i+1). Set them before
	// the first Prepare.
	Faults backend.Faults
	builtin
}

// drawSecret returns *secret, first drawing a fresh random one into it
// when it is 0: every provider's secret of the run.
func drawSecret(secret *uint64) uint64 {
	if *secret == 0 {
		*secret = workloads.NewSecret()
	}
	return *secret
}

// runSecret implements secretHolder.
func (p *InProcessBackends) runSecret() uint64 { return drawSecret(&p.Secret) }

// Describe implements BackendProvider.
func (p *InProcessBackends) Describe() string { return "built-in, in-process" }

// Prepare implements BackendProvider.
func (p *InProcessBackends) Prepare(ctx context.Context, spec *workloads.Spec) ([]string, error) {
	return p.prepare(ctx, spec, p.runSecret(), func(ctx context.Context, i int, cfg backend.Config) (*instance, error) {
		cfg.Faults, cfg.Seed = p.Faults, int64(i+1)
		return launchInProcess(ctx, i, cfg)
	})
}

func launchInProcess(ctx context.Context, _ int, cfg backend.Config) (*instance, error) {
	s, err := backend.Start(context.WithoutCancel(ctx), cfg)
	if err != nil {
		return nil, err
	}
	ctl, err := dialControl(ctx, s.Addr())
	if err != nil {
		s.Close()
		return nil, err
	}
	return &instance{addr: s.Addr(), ctl: ctl,
		stop: func() error {
			ctl.Close()
			return s.Close()
		},
		died: func() error { return nil },
	}, nil
}

// Close implements BackendProvider.
func (p *InProcessBackends) Close() error { return p.close() }
