package backend

import (
	"fmt"

	"github.com/concbench/concbench/workloads/resp"
)

// Config configures a server. The zero value serves 64-byte values on a free
// loopback port with no latency and no faults.
type Config struct {
	// Listen is the address to listen on; empty means "127.0.0.1:0", a
	// free loopback port. The server binds beyond loopback only when told.
	Listen string
	// ValueSize is the size of the value GET returns for a key that was not
	// SET: workloads.Value(key, ValueSize). Zero means 64.
	ValueSize int
	// Latency is the injected delay of each request (see Distribution).
	// CONCBENCH.LATENCY changes it while the server runs.
	Latency Distribution
	// Faults are the probabilities of injected failures.
	Faults Faults
	// MaxConns bounds the open connections; 0 means unlimited. A connection
	// over the bound gets "-ERR max connections" and is closed.
	MaxConns int
	// MaxBulk bounds one argument of a request; 0 means resp.DefaultMaxBulk.
	MaxBulk int
	// Seed seeds the latency and fault random numbers. Every connection
	// draws from its own generator, seeded by Seed and the connection's
	// sequence number, so a run is repeatable for a given Seed.
	Seed int64
	// Logf, if set, receives diagnostics: connections closed for protocol
	// errors, injected faults.
	Logf func(format string, args ...any)
}

// Faults are per-request probabilities, each in [0,1] and summing to at
// most 1, of the failures a real backend shows. They apply to the workload's
// commands (GET, MGET, SET, DEL), never to PING or the CONCBENCH.* commands,
// so a harness can always reach the server. A fault strikes when the
// request's reply is due to be written; the replies before it are sent.
type Faults struct {
	// Reset closes the connection with a TCP RST (SO_LINGER 0) instead of
	// replying: the client sees "connection reset by peer".
	Reset float64
	// Stall never replies on the connection again, until the client gives
	// up and closes it: the client sees its deadline pass.
	Stall float64
	// PartialClose writes part of the reply, then closes the connection:
	// the client sees an unexpected EOF mid-reply.
	PartialClose float64
	// SlowDrip writes the reply a few bytes at a time with small sleeps
	// between: a slow or congested link. The reply is complete and correct.
	SlowDrip float64
}

// Any reports whether any fault has a non-zero probability.
func (f Faults) Any() bool {
	return f.Reset > 0 || f.Stall > 0 || f.PartialClose > 0 || f.SlowDrip > 0
}

// Validate reports whether the probabilities are in range.
func (f Faults) Validate() error {
	sum := 0.0
	for _, p := range []struct {
		name string
		v    float64
	}{{"reset", f.Reset}, {"stall", f.Stall}, {"partial close", f.PartialClose}, {"slow drip", f.SlowDrip}} {
		if !(p.v >= 0 && p.v <= 1) { // also rejects NaN
			return fmt.Errorf("fault %s: probability %v not in [0,1]", p.name, p.v)
		}
		sum += p.v
	}
	if sum > 1 {
		return fmt.Errorf("fault probabilities sum to %v, over 1", sum)
	}
	return nil
}

// defaultValueSize is the value size of the I/O workloads' default cells.
const defaultValueSize = 64

func (c Config) withDefaults() (Config, error) {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:0"
	}
	if c.ValueSize == 0 {
		c.ValueSize = defaultValueSize
	}
	if c.ValueSize < 0 {
		return c, fmt.Errorf("value size %d is negative", c.ValueSize)
	}
	if c.MaxBulk <= 0 {
		c.MaxBulk = resp.DefaultMaxBulk
	}
	if c.MaxConns < 0 {
		return c, fmt.Errorf("max conns %d is negative", c.MaxConns)
	}
	if err := c.Latency.Validate(); err != nil {
		return c, err
	}
	if err := c.Faults.Validate(); err != nil {
		return c, err
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	return c, nil
}
