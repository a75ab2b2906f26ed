package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/workloads"
)

// A standalone server is one strategy's server model serving the serve
// workload's pages outside any run (`concbench serve`), so that a load
// generator elsewhere, on another machine even, can be aimed at it: it is
// what a serve round starts (serve_round.go), listening where it is told
// and until it is closed. The backend is prepared as for a serve cell; the
// load generator's job (serve.LoadJob) carries the backend's secret, so
// that `concbench loadgen` verifies every response against this server's
// backend, wherever it runs.

// ErrRemoteListen is wrapped by StartServer's error, and CheckListen's,
// for a listen address that reaches beyond loopback (an unspecified host
// such as 0.0.0.0 or ::, another interface's address, a name that
// resolves to one) without ServerOptions.AllowRemote: nothing binds beyond
// 127.0.0.1 unless asked.
var ErrRemoteListen = errors.New("listen address reaches beyond loopback")

// DefaultServerListen is where StartServer listens when ServerOptions
// gives no address.
const DefaultServerListen = "127.0.0.1:8080"

// ServerOptions say which server model StartServer runs, with what pages,
// where, and against which backend.
type ServerOptions struct {
	// Strategy names the strategy whose server model serves
	// (strategies.Lookup): a Go strategy's runs in this process, a py-*
	// one's in a child process, as in a serve round.
	Strategy string
	// StrategyParams are the strategy's parameter values, its server
	// model's serve-only ones included (serve.Tunable: simd's window),
	// one value each: a server is one cell, not a sweep.
	StrategyParams params.Values
	// ServeParams are the serve workload's parameter values, one each;
	// the others take their defaults (not the sweep of its matrix).
	// latency and pages shape what the server serves; rate, arrival,
	// duration, slo and conns, the load job (RunningServer.LoadJob).
	ServeParams params.Values
	// Listen is the host:port to listen on; "" means
	// DefaultServerListen. Port 0 picks a free port (RunningServer.Addr
	// says which).
	Listen string
	// AllowRemote allows a Listen address beyond loopback.
	AllowRemote bool
	// Backends serves the pages' lookups. StartServer prepares it; the
	// caller closes it, after RunningServer.Close.
	Backends BackendProvider
	// FetchTimeout bounds one backend lookup (0: DefaultFetchTimeout).
	FetchTimeout time.Duration
	// Logf, if set, receives the server's diagnostics.
	Logf func(format string, args ...any)
}

// RunningServer is a server model started by StartServer.
type RunningServer struct {
	label   string
	addr    string
	job     serve.LoadJob
	backend []string
	cancel  context.CancelFunc
	done    chan struct{} // closed when Serve has returned
	err     error         // Serve's error, once done is closed

	closeOnce sync.Once
	closeErr  error
}

// StartServer validates opt, then listens, prepares the backend, starts
// the server model and returns once it has answered page 0 as the
// backend's reference says it must, as a serve round does before any load
// comes. The server runs until Close or until ctx ends; close it either
// way. Nothing is started for options that are wrong: a strategy that
// does not exist (strategies.ErrUnknownStrategy), cannot run here
// (strategies.ErrUnavailable) or has no server model
// (serve.ErrCannotServe), a parameter that is unknown or invalid or a
// comma list (params.ErrUnknown, params.ErrInvalid), a listen address
// beyond loopback without AllowRemote (ErrRemoteListen).
func StartServer(ctx context.Context, opt ServerOptions) (*RunningServer, error) {
	if opt.Backends == nil {
		return nil, errors.New("harness: StartServer needs a backend provider")
	}
	if opt.Listen == "" {
		opt.Listen = DefaultServerListen
	}
	if opt.FetchTimeout == 0 {
		opt.FetchTimeout = DefaultFetchTimeout
	}
	if err := CheckListen(ctx, opt.Listen, opt.AllowRemote); err != nil {
		return nil, err
	}
	inst, err := standaloneInstance(opt.Strategy, opt.StrategyParams)
	if err != nil {
		return nil, err
	}
	spec, set, err := standaloneSpec(opt.ServeParams)
	if err != nil {
		return nil, err
	}

	ln, err := net.Listen("tcp", opt.Listen)
	if err != nil {
		return nil, fmt.Errorf("serve %s: listen on %s: %w", inst.label, opt.Listen, err)
	}
	if err := checkBound(ln.Addr(), opt.AllowRemote); err != nil {
		ln.Close()
		return nil, fmt.Errorf("serve %s: %s: %w", inst.label, opt.Listen, err)
	}
	closeLn := true
	defer func() {
		if closeLn {
			ln.Close()
		}
	}()
	addrs, err := opt.Backends.Prepare(ctx, spec)
	if err != nil {
		return nil, fmt.Errorf("serve %s: backend: %w", inst.label, err)
	}
	secret, err := backendSecret(opt.Backends)
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", inst.label, err)
	}
	job := serveLoadJob(set, inst.maxConns, boundAddr(opt.Listen, ln.Addr()), secret, 0)
	ref, err := job.Reference()
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", inst.label, err)
	}
	env, err := serveEnv(opt.Backends, addrs, set, opt.FetchTimeout, opt.Logf).WithDefaults()
	if err != nil {
		return nil, fmt.Errorf("serve %s: %w", inst.label, err)
	}

	sctx, cancel := context.WithCancel(ctx)
	s := &RunningServer{label: inst.label, addr: job.Config.Addr, job: job, backend: addrs[:1],
		cancel: cancel, done: make(chan struct{})}
	closeLn = false // Serve owns it now
	go func() {
		s.err = inst.server.Serve(sctx, ln, env)
		close(s.done)
	}()
	pctx, pcancel := context.WithTimeout(ctx, serve.StartTimeout)
	defer pcancel()
	if err := serve.Probe(pctx, probeAddr(ln.Addr()), ref, s.done); err != nil {
		cancel()
		<-s.done
		if s.err != nil {
			err = fmt.Errorf("%w (Serve returned: %w)", err, s.err)
		}
		return nil, fmt.Errorf("serve %s: %w", inst.label, err)
	}
	return s, nil
}

// Addr returns the address the server listens on, its port resolved.
func (s *RunningServer) Addr() string { return s.addr }

// Strategy returns the server model's strategy with its parameters, as a
// serve cell's name writes it: "reactor(loops=2,conns=0,depth=1,offload=off)".
func (s *RunningServer) Strategy() string { return s.label }

// Backends returns the addresses of the backend the server's lookups go
// to.
func (s *RunningServer) Backends() []string { return s.backend }

// LoadJob returns the load generator's job for this server: the serve
// parameters' rate, arrival, window (after a warm-up of a quarter of it,
// at most 250ms) and request timeout (ten times the SLO, at least 1s), as
// a serve round offers them, aimed at Addr, with the pages, value size
// and backend secret that every response is verified against. The
// secret is the backend's for as long as its provider runs: keep the job
// as private as the backend.
func (s *RunningServer) LoadJob() serve.LoadJob { return s.job }

// Done is closed when the server has stopped serving: after Close, once
// StartServer's ctx has ended, or on its own (a server in a child process
// that died). Close says why.
func (s *RunningServer) Done() <-chan struct{} { return s.done }

// Close stops the server and waits for it (at most serve.StopTimeout):
// every goroutine and thread it started, and its child process if it has
// one. It returns the server's error, or one saying that it did not stop.
// Close may be called more than once; the backend provider is the
// caller's to close.
func (s *RunningServer) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		select {
		case <-s.done:
			s.closeErr = s.err
		case <-time.After(serve.StopTimeout):
			s.closeErr = fmt.Errorf("serve %s: server on %s did not stop within %v", s.label, s.addr, serve.StopTimeout)
		}
	})
	return s.closeErr
}

// standaloneInstance makes the strategy called name with values, as a
// serve cell's instance (a sweep is refused: a server is one cell).
func standaloneInstance(name string, values params.Values) (strategyInstance, error) {
	if name == "" {
		return strategyInstance{}, errors.New("harness: no strategy to serve")
	}
	if err := singleValues("strategy "+name, values); err != nil {
		return strategyInstance{}, err
	}
	plan := &Plan{}
	insts, err := instances(Selection{Strategies: []string{name}, StrategyParams: map[string]params.Values{name: values}},
		true, false, plan)
	if err != nil {
		return strategyInstance{}, err
	}
	if len(insts) != 1 {
		return strategyInstance{}, fmt.Errorf("strategy %s: %w: it has no server model (concbench list says which strategies serve)",
			name, serve.ErrCannotServe)
	}
	return insts[0], nil
}

// standaloneSpec builds the serve workload's spec of values, the others
// at their defaults.
func standaloneSpec(values params.Values) (*workloads.Spec, workloads.ServeSettings, error) {
	if err := singleValues("workload "+workloads.ServeWorkload, values); err != nil {
		return nil, workloads.ServeSettings{}, err
	}
	d, err := workloads.Lookup(workloads.ServeWorkload)
	if err != nil {
		return nil, workloads.ServeSettings{}, err
	}
	spec, err := d.Build(values)
	if err != nil {
		return nil, workloads.ServeSettings{}, err
	}
	set, _ := workloads.ServeSettingsOf(spec)
	return spec, set, nil
}

// singleValues refuses a comma list among values.
func singleValues(what string, values params.Values) error {
	for name, v := range values {
		if strings.Contains(v, ",") {
			return fmt.Errorf("%s: %w: %s=%s is a sweep; a server serves one value of each parameter", what, params.ErrInvalid, name, v)
		}
	}
	return nil
}

// CheckListen returns an error wrapping ErrRemoteListen when listen, a
// host:port, would bind an address beyond loopback and allowRemote is
// false: an empty or unspecified host (every interface), an address that
// is not a loopback one, a name any of whose addresses is not. A name is
// resolved; an address that does not parse is an error too.
func CheckListen(ctx context.Context, listen string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", listen, err)
	}
	if allowRemote {
		return nil
	}
	var ips []net.IP
	switch ip := net.ParseIP(host); {
	case host == "":
	case ip != nil:
		ips = []net.IP{ip}
	default:
		found, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return fmt.Errorf("listen %s: %w", listen, err)
		}
		for _, a := range found {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("%w: %s", ErrRemoteListen, listen)
		}
	}
	if len(ips) == 0 {
		return fmt.Errorf("%w: %s binds every interface", ErrRemoteListen, listen)
	}
	return nil
}

// checkBound checks the address a listener was bound to, as CheckListen
// checks the one asked for: a name may resolve otherwise the second time.
func checkBound(a net.Addr, allowRemote bool) error {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return fmt.Errorf("bound %s, not a TCP address", a)
	}
	if !allowRemote && !tcp.IP.IsLoopback() {
		return fmt.Errorf("%w: bound %s", ErrRemoteListen, a)
	}
	return nil
}

// probeAddr is where this machine reaches a listener bound to a: a, or
// the loopback address of a's family when a binds every interface.
func probeAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	ip := net.IPv4(127, 0, 0, 1)
	if tcp.IP.To4() == nil {
		ip = net.IPv6loopback
	}
	return (&net.TCPAddr{IP: ip, Port: tcp.Port}).String()
}

// boundAddr is the address a listener asked to listen on listen is bound
// to, with its port: a as it is, but for an unspecified host written as
// asked (Go binds "0.0.0.0" on both families and says "[::]").
func boundAddr(listen string, a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	host, _, err := net.SplitHostPort(listen)
	if !ok || err != nil || !tcp.IP.IsUnspecified() || net.ParseIP(host) == nil {
		return a.String()
	}
	return net.JoinHostPort(host, strconv.Itoa(tcp.Port))
}
