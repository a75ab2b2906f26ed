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
	// CONCBENCH.VALUESIZE changes it while the server runs.
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
	// MaxQueuedBytes bounds the reply bytes the server holds across all
	// its connections: generated and not yet written, because they are not
	// due yet or because their client does not read. While the server holds
	// that much, a connection that holds replies of its own stops reading
	// requests (backpressure), so a client that pipelines without reading
	// slows itself down instead of exhausting memory. A connection that
	// holds nothing may always send one request, so well-behaved clients
	// are still served; the bound can therefore be passed by at most one
	// reply per connection. A single reply larger than the bound is refused
	// with an error. 0 means DefaultMaxQueuedBytes.
	MaxQueuedBytes int
	// MaxStoredBytes bounds the bytes of keys and values held by SET; a SET
	// over it is answered "-OOM ..." as Redis answers over maxmemory. 0
	// means DefaultMaxStoredBytes.
	MaxStoredBytes int
	// Secret is mixed into every value the server derives:
	// workloads.SecretValue(Secret, key, ValueSize). 0 means no secret:
	// workloads.Value(key, ValueSize), today's values. Give it to the
	// server in its configuration, on a child's stdin (WriteChildConfig)
	// or with CONCBENCH.SECRET (Control.SetSecret), never on a command
	// line.
	Secret uint64
	// Auth, if not empty, is the password clients must send with AUTH
	// before any other command (NOAUTH before it, as Redis answers). A
	// server that listens beyond loopback should have one: anyone who can
	// connect can change the latency and SET.
	Auth string
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

const (
	// DefaultMaxQueuedBytes bounds the replies a server holds: 256
	// replies of 256 KiB in flight at once (the strategies' default
	// concurrency at large values) fit, and a client that never reads costs
	// tens of megabytes, not the gigabytes a per-connection bound allowed.
	DefaultMaxQueuedBytes = 64 << 20
	// DefaultMaxStoredBytes bounds SET's store. Benchmarks never SET on the
	// built-in backend (values are derived from keys); the store is there
	// for clients that probe it.
	DefaultMaxStoredBytes = 64 << 20
)

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
	if c.MaxQueuedBytes < 0 || c.MaxStoredBytes < 0 {
		return c, fmt.Errorf("max queued bytes %d or max stored bytes %d is negative", c.MaxQueuedBytes, c.MaxStoredBytes)
	}
	if c.MaxQueuedBytes == 0 {
		c.MaxQueuedBytes = DefaultMaxQueuedBytes
	}
	if c.MaxStoredBytes == 0 {
		c.MaxStoredBytes = DefaultMaxStoredBytes
	}
	if c.ValueSize >= c.MaxQueuedBytes {
		return c, fmt.Errorf("value size %d is not under max queued bytes %d: no GET could be answered", c.ValueSize, c.MaxQueuedBytes)
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
