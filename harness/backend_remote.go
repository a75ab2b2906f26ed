package harness

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/resp"
)

// remoteControlTimeout bounds each control command to a remote server:
// stopping a CPU profile flushes it, which takes its runtime a moment; the
// rest answer at once, plus the network's round trip.
const remoteControlTimeout = 10 * time.Second

// remoteURLForm is what a --backend concbench:// URL looks like.
const remoteURLForm = "concbench://[TOKEN@]HOST:PORT[,HOST:PORT...]"

// RemoteBackends serves fetch steps from built-in backends that run
// elsewhere, started by hand with `concbench backend --listen HOST:PORT
// --auth TOKEN` (a token is required beyond loopback). A spec's backend
// instance i maps to server i modulo the number of servers, so fanout's
// instances spread over them. Everything a run needs of a server it sets
// over an authenticated control connection before the cells that need
// it: the run's secret (CONCBENCH.SECRET, never on a command line, never
// readable back), the value size (CONCBENCH.VALUESIZE) and the injected
// latency (CONCBENCH.LATENCY). The servers keep those settings after the
// run; two runs sharing a server at once would set each other's, and
// their digests would fail (a run's cells fail, they are never wrong).
//
// Its windows, stats and CPU profiles are those of each server, in the
// order of the URL (see ObservedBackends): a server that two instances
// map to counts both. It checks every round against them (RoundCheck; see
// verify_backend.go).
type RemoteBackends struct {
	// Secret is mixed into every value the servers derive
	// (backend.Config.Secret) and into the references of the specs
	// prepared (Spec.UseSecret). 0, the default, draws a fresh random one
	// at the first Prepare (workloads.NewSecret) and keeps it here; a test
	// may set its own.
	Secret uint64

	servers []*backend.Control
	addrs   []string
	cred    resp.Credentials
	set     bool           // the servers hold applied
	applied backend.Config // Secret, ValueSize and Latency sent to every server
}

// NewRemoteBackends contacts every server that rawURL names,
// concbench://[TOKEN@]host:port[,host:port...] (also :TOKEN@), all at
// once: it connects, sends AUTH when the URL has a token, checks PING, and
// checks that each is a concbench backend, not another RESP server. A
// wrong URL is an error wrapping ErrBadBackendURL; a server that cannot be
// reached, refuses the token or is something else is one line that names
// it and says why.
func NewRemoteBackends(ctx context.Context, rawURL string) (*RemoteBackends, error) {
	u, err := parseServerURL(rawURL, "concbench", remoteURLForm)
	if err != nil {
		return nil, err
	}
	if u.path != "" && u.path != "/" {
		return nil, fmt.Errorf("%w %s: a path after the address (want %s)", ErrBadBackendURL, redactServerURL(rawURL), remoteURLForm)
	}
	cred := u.cred
	if cred.Password == "" && cred.User != "" {
		cred = resp.Credentials{Password: cred.User} // concbench://TOKEN@: the token is the default user's password
	}
	clients, err := contactAll(ctx, u.hosts, cred, remoteControlTimeout, "token", remoteName)
	if err != nil {
		return nil, err
	}
	p := &RemoteBackends{addrs: u.hosts, cred: cred}
	for i, c := range clients {
		p.servers = append(p.servers, backend.NewControl(u.hosts[i], c))
	}
	for _, ctl := range p.servers {
		// CONCBENCH.VALUESIZE is a command of the built-in backend only:
		// a Redis answers it "unknown command".
		if _, err := ctl.ValueSize(); err != nil {
			p.Close()
			var se *resp.ServerError
			if errors.As(err, &se) && strings.Contains(se.Msg, "unknown command") {
				return nil, fmt.Errorf("%s: it speaks RESP but is not a concbench backend (%s): for a Redis or Valkey server, use --backend redis://HOST:PORT",
					remoteName(ctl.Addr()), se.Msg)
			}
			return nil, fmt.Errorf("%s: %w", remoteName(ctl.Addr()), err)
		}
	}
	return p, nil
}

func remoteName(addr string) string { return "concbench backend " + addr }

// Describe implements BackendProvider.
func (p *RemoteBackends) Describe() string {
	return "built-in, remote " + strings.Join(p.addrs, ",")
}

// Credentials returns what every connection to the servers must log in
// with: the URL's token (see BackendCredentials).
func (p *RemoteBackends) Credentials() resp.Credentials { return p.cred }

// Prepare implements BackendProvider: it sends the servers the secret, the
// value size and the latency of spec where they differ from what they
// hold.
func (p *RemoteBackends) Prepare(ctx context.Context, spec *workloads.Spec) ([]string, error) {
	want := backendConfig(spec.Backend, p.runSecret())
	for _, ctl := range p.servers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var err error
		if !p.set || p.applied.Secret != want.Secret {
			err = ctl.SetSecret(want.Secret)
		}
		if err == nil && (!p.set || p.applied.ValueSize != want.ValueSize) {
			err = ctl.SetValueSize(want.ValueSize)
		}
		if err == nil && (!p.set || p.applied.Latency != want.Latency) {
			err = ctl.SetLatency(want.Latency)
		}
		if err != nil {
			p.set = false // some servers may hold the new settings, some the old
			return nil, err
		}
	}
	p.set, p.applied = true, want
	spec.UseSecret(want.Secret)
	return spread(spec.Backend.Instances, p.addrs), nil
}

// runSecret implements secretHolder.
func (p *RemoteBackends) runSecret() uint64 { return drawSecret(&p.Secret) }

// Windows reads the measurement window of every server, in the order of
// the URL, and starts the next (see ObservedBackends).
func (p *RemoteBackends) Windows() ([]backend.Window, error) {
	ws := make([]backend.Window, len(p.servers))
	for i, ctl := range p.servers {
		w, err := ctl.Window()
		if err != nil {
			return nil, err
		}
		ws[i] = w
	}
	return ws, nil
}

// Stats returns the counters of every server since it started.
func (p *RemoteBackends) Stats() ([]backend.Stats, error) {
	sts := make([]backend.Stats, len(p.servers))
	for i, ctl := range p.servers {
		st, err := ctl.Stats()
		if err != nil {
			return nil, err
		}
		sts[i] = st
	}
	return sts, nil
}

// StartCPUProfiles starts a CPU profile in every server.
func (p *RemoteBackends) StartCPUProfiles() error {
	for i, ctl := range p.servers {
		if err := ctl.StartCPUProfile(); err != nil {
			for _, started := range p.servers[:i] {
				_, _ = started.StopCPUProfile()
			}
			return err
		}
	}
	return nil
}

// StopCPUProfiles stops the profiles and returns them in the order of the
// URL.
func (p *RemoteBackends) StopCPUProfiles() ([][]byte, error) {
	profiles := make([][]byte, len(p.servers))
	var first error
	for i, ctl := range p.servers {
		prof, err := ctl.StopCPUProfile()
		if err != nil && first == nil {
			first = err
		}
		profiles[i] = prof
	}
	return profiles, first
}

// Restarts implements ObservedBackends: servers elsewhere are never
// restarted.
func (p *RemoteBackends) Restarts() []BackendRestart { return nil }

// Close implements BackendProvider: it closes the control connections and
// leaves the servers running, with the settings of the run.
func (p *RemoteBackends) Close() error {
	var errs []error
	for _, ctl := range p.servers {
		errs = append(errs, ctl.Close())
	}
	p.servers = nil
	return errors.Join(errs...)
}
