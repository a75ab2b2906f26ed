package backend

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/concbench/concbench/workloads/resp"
)

// controlTimeout bounds each control command. Stopping a CPU profile
// flushes it, which takes the runtime a moment; the rest answer at once.
const controlTimeout = 10 * time.Second

// Control is a client for a server's own commands: CONCBENCH.LATENCY,
// CONCBENCH.SECRET, CONCBENCH.VALUESIZE, CONCBENCH.STATS, CONCBENCH.WINDOW
// and CONCBENCH.PROFILE. It holds one
// connection; those commands are exempt from injected latency and faults,
// so a harness always gets through, and they are not data requests, so
// they never count in a window. A Control is not safe for concurrent use.
//
//	ctl, err := backend.DialControl(ctx, addr, "")
//	if err != nil { ... }
//	defer ctl.Close()
//	_ = ctl.SetLatency(backend.Constant(time.Millisecond))
//	_, _ = ctl.Window()    // start a window
//	runRound()
//	w, err := ctl.Window() // what the server did in the round
type Control struct {
	addr string
	c    *resp.Client
}

// DialControl connects to the server at addr and, when auth is not empty,
// authenticates with it (see Config.Auth).
func DialControl(ctx context.Context, addr, auth string) (*Control, error) {
	c, err := resp.Dial(ctx, addr, controlTimeout)
	if err != nil {
		return nil, fmt.Errorf("backend %s: %w", addr, err)
	}
	ctl := &Control{addr: addr, c: c}
	if auth != "" {
		if err := c.Auth("", auth); err != nil {
			c.Close()
			return nil, fmt.Errorf("backend %s: %w", addr, err)
		}
	}
	return ctl, nil
}

// NewControl returns a Control over c, a client already connected to the
// server at addr (and authenticated, when the server wants it), for a
// caller that made the first contact itself. The Control owns c.
func NewControl(addr string, c *resp.Client) *Control { return &Control{addr: addr, c: c} }

// Addr returns the server's address.
func (ctl *Control) Addr() string { return ctl.addr }

// Close closes the connection.
func (ctl *Control) Close() error { return ctl.c.Close() }

// Ping checks that the server answers on this connection.
func (ctl *Control) Ping() error {
	if err := ctl.c.Ping(); err != nil {
		return fmt.Errorf("backend %s: %w", ctl.addr, err)
	}
	return nil
}

// SetLatency changes the server's injected latency for requests read from
// now on (CONCBENCH.LATENCY distribution).
func (ctl *Control) SetLatency(d Distribution) error {
	_, err := ctl.do(resp.KindSimple, "CONCBENCH.LATENCY", d.String())
	return err
}

// Latency returns the server's injected latency (CONCBENCH.LATENCY).
func (ctl *Control) Latency() (Distribution, error) {
	r, err := ctl.do(resp.KindBulk, "CONCBENCH.LATENCY")
	if err != nil {
		return Distribution{}, err
	}
	d, err := ParseDistribution(string(r.Str))
	if err != nil {
		return Distribution{}, fmt.Errorf("backend %s: CONCBENCH.LATENCY: %w", ctl.addr, err)
	}
	return d, nil
}

// SetSecret changes the secret of the values the server derives from now
// on (CONCBENCH.SECRET; see Config.Secret). The secret travels on this
// connection, never on a command line; no command reads it back.
func (ctl *Control) SetSecret(secret uint64) error {
	_, err := ctl.do(resp.KindSimple, "CONCBENCH.SECRET", strconv.FormatUint(secret, 16))
	return err
}

// SetValueSize changes the size of the values the server derives from now
// on (CONCBENCH.VALUESIZE bytes; see Config.ValueSize).
func (ctl *Control) SetValueSize(size int) error {
	_, err := ctl.do(resp.KindSimple, "CONCBENCH.VALUESIZE", strconv.Itoa(size))
	return err
}

// ValueSize returns the size of the values the server derives
// (CONCBENCH.VALUESIZE).
func (ctl *Control) ValueSize() (int, error) {
	r, err := ctl.do(resp.KindInt, "CONCBENCH.VALUESIZE")
	return int(r.Int), err
}

// Stats returns the server's counters since it started (CONCBENCH.STATS).
func (ctl *Control) Stats() (Stats, error) {
	r, err := ctl.do(resp.KindBulk, "CONCBENCH.STATS")
	if err != nil {
		return Stats{}, err
	}
	st, err := ParseStats(string(r.Str))
	if err != nil {
		return Stats{}, fmt.Errorf("backend %s: CONCBENCH.STATS: %w", ctl.addr, err)
	}
	return st, nil
}

// Window returns what the server did since the previous Window (or since
// it started) and starts the next window (CONCBENCH.WINDOW). See [Window]
// for what each count means.
func (ctl *Control) Window() (Window, error) {
	r, err := ctl.do(resp.KindBulk, "CONCBENCH.WINDOW")
	if err != nil {
		return Window{}, err
	}
	w, err := ParseWindow(string(r.Str))
	if err != nil {
		return Window{}, fmt.Errorf("backend %s: CONCBENCH.WINDOW: %w", ctl.addr, err)
	}
	return w, nil
}

// StartCPUProfile starts a CPU profile of the server's process
// (CONCBENCH.PROFILE START). It fails when that process is already
// profiled, as an in-process server is while its host profiles itself.
func (ctl *Control) StartCPUProfile() error {
	_, err := ctl.do(resp.KindSimple, "CONCBENCH.PROFILE", "START")
	return err
}

// StopCPUProfile stops the profile and returns it: gzipped pprof protobuf
// (what pprof reads), every sample labelled side=backend
// (CONCBENCH.PROFILE STOP).
func (ctl *Control) StopCPUProfile() ([]byte, error) {
	r, err := ctl.do(resp.KindBulk, "CONCBENCH.PROFILE", "STOP")
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), r.Str...), nil
}

// do sends a command and checks that the reply is of kind want. An error
// reply becomes an error that names the server and the command.
func (ctl *Control) do(want resp.Kind, args ...string) (resp.Reply, error) {
	r, err := ctl.c.Do(args...)
	if err == nil {
		switch {
		case r.Kind == resp.KindError:
			err = fmt.Errorf("%s: %w", args[0], r.Err())
		case r.Kind != want || r.Null:
			err = fmt.Errorf("%s: unexpected reply %s", args[0], r)
		}
	}
	if err != nil {
		return resp.Reply{}, fmt.Errorf("backend %s: %w", ctl.addr, err)
	}
	return r, nil
}
