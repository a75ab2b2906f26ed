package loadgen

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"time"
)

// Mode is how requests are issued.
type Mode string

const (
	// Open sends requests on a schedule, whatever the server does: the
	// wrk2/vegeta model. Latency counts from each request's intended send
	// time, so queueing shows.
	Open Mode = "open"
	// Closed keeps Conns connections busy back to back, each sending its
	// next request when the previous response arrives: the wrk model.
	// Latency is service time; the achieved rate is the saturation
	// throughput.
	Closed Mode = "closed"
)

// Arrival is the schedule of an open run.
type Arrival string

const (
	// Constant spaces requests evenly: request k is due at k/Rate.
	Constant Arrival = "constant"
	// Poisson draws the gaps from an exponential distribution of mean
	// 1/Rate, seeded by Config.Seed: bursts, as independent users make.
	Poisson Arrival = "poisson"
)

// Defaults of Config.
const (
	DefaultTimeout  = 2 * time.Second
	DefaultMaxConns = 256
	DefaultMaxLag   = 10 * time.Millisecond
	// MaxRequests bounds the requests of one run: the schedule and the
	// latency samples take 32 bytes a request, allocated before the run.
	MaxRequests = 20_000_000
)

// Config configures a run. It is plain data and encodes to JSON, so a
// parent process can hand it to a generator in a child process.
type Config struct {
	// Addr is the server's host:port. It must be a loopback address
	// unless AllowRemote is set.
	Addr        string `json:"addr"`
	AllowRemote bool   `json:"allow_remote,omitempty"`
	// Mode is Open (the default) or Closed.
	Mode Mode `json:"mode,omitempty"`
	// Rate is the offered rate in requests per second (open mode).
	Rate float64 `json:"rate,omitempty"`
	// Arrival is Constant (the default) or Poisson (open mode).
	Arrival Arrival `json:"arrival,omitempty"`
	// Seed seeds the Poisson schedule.
	Seed uint64 `json:"seed,omitempty"`
	// Warmup is sent before the measured window and not counted: it
	// opens connections and warms the server.
	Warmup time.Duration `json:"warmup_ns,omitempty"`
	// Duration is the measured window: requests due in it are counted.
	Duration time.Duration `json:"duration_ns"`
	// Timeout bounds each request from its intended send time; past it
	// the request is an error. Zero means DefaultTimeout.
	Timeout time.Duration `json:"timeout_ns,omitempty"`
	// Conns is, in open mode, the most connections the generator opens
	// (zero means DefaultMaxConns): a request due while all are busy
	// waits for one, and the wait counts in its latency. In closed mode
	// it is the number of connections (required).
	Conns int `json:"conns,omitempty"`
	// MaxLag is how far behind its schedule the generator may fall (at
	// the 99th percentile of requests) before the run is flagged
	// under-offered. Zero means DefaultMaxLag.
	MaxLag time.Duration `json:"max_lag_ns,omitempty"`
}

// withDefaults validates c and fills in its defaults.
func (c Config) withDefaults() (Config, error) {
	if c.Mode == "" {
		c.Mode = Open
	}
	if c.Arrival == "" {
		c.Arrival = Constant
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxLag == 0 {
		c.MaxLag = DefaultMaxLag
	}
	if c.Mode == Open && c.Conns == 0 {
		c.Conns = DefaultMaxConns
	}
	if err := checkAddr(c.Addr, c.AllowRemote); err != nil {
		return c, err
	}
	switch {
	case c.Mode != Open && c.Mode != Closed:
		return c, fmt.Errorf("loadgen: mode %q, want %q or %q", c.Mode, Open, Closed)
	case c.Arrival != Constant && c.Arrival != Poisson:
		return c, fmt.Errorf("loadgen: arrival %q, want %q or %q", c.Arrival, Constant, Poisson)
	case c.Duration <= 0:
		return c, fmt.Errorf("loadgen: duration %v, want > 0", c.Duration)
	case c.Warmup < 0 || c.Timeout < 0 || c.MaxLag < 0:
		return c, errors.New("loadgen: negative warm-up, timeout or lag")
	case c.Conns < 1:
		return c, fmt.Errorf("loadgen: %d connections, want at least 1", c.Conns)
	case c.Mode == Open && !(c.Rate > 0 && !math.IsInf(c.Rate, 0)):
		return c, fmt.Errorf("loadgen: rate %v requests/s, want > 0", c.Rate)
	case c.Mode == Open && c.Rate*(c.Warmup+c.Duration).Seconds() > MaxRequests:
		return c, fmt.Errorf("loadgen: %v requests/s for %v is over %d requests", c.Rate, c.Warmup+c.Duration, MaxRequests)
	}
	return c, nil
}

// checkAddr refuses a target that is not on this machine unless the
// caller allowed it explicitly: a load generator aimed at the wrong
// address is an attack.
func checkAddr(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("loadgen: address %q: %w", addr, err)
	}
	if allowRemote || host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("loadgen: address %q is not loopback (set AllowRemote to aim elsewhere)", addr)
}

// schedule returns the intended send times of an open run, in nanoseconds
// from its start, up to the end of the window.
func (c Config) schedule() []int64 {
	end := int64(c.Warmup + c.Duration)
	n := int(c.Rate*float64(end)/1e9) + 1
	if c.Arrival == Poisson {
		n += n/8 + 64 // room for the draws' spread
	}
	at := make([]int64, 0, n)
	switch c.Arrival {
	case Poisson:
		rng := rand.New(rand.NewPCG(c.Seed, 0x9e3779b97f4a7c15))
		mean := 1e9 / c.Rate
		t := 0.0
		for int64(t) < end {
			at = append(at, int64(t))
			t += rng.ExpFloat64() * mean
		}
	default:
		gap := 1e9 / c.Rate
		for k := 0; ; k++ {
			t := int64(float64(k) * gap)
			if t >= end {
				break
			}
			at = append(at, t)
		}
	}
	return at
}
