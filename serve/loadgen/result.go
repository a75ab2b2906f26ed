package loadgen

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Kind classifies a failed request.
type Kind uint8

const (
	KindConnect  Kind = iota // the connection could not be opened
	KindTimeout              // no verified response within Timeout of the intended send time (sent or not)
	KindIO                   // the connection broke: reset, closed mid-response, a failed write
	KindProtocol             // the response was malformed, unframed, or unsolicited
	KindStatus               // a status other than 200
	KindBody                 // the body is not the page the target expects
	numKinds
)

var kindNames = [numKinds]string{"connect", "timeout", "io", "protocol", "status", "body"}

func (k Kind) String() string {
	if k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Percentiles summarise a set of durations, exactly: each is a sample
// (nearest rank, as the harness computes its p50/p99), from all of them.
type Percentiles struct {
	N    int           `json:"n"`
	Mean time.Duration `json:"mean_ns"`
	P50  time.Duration `json:"p50_ns"`
	P90  time.Duration `json:"p90_ns"`
	P99  time.Duration `json:"p99_ns"`
	P999 time.Duration `json:"p999_ns"`
	Max  time.Duration `json:"max_ns"`
}

// summarize sorts d in place and returns its percentiles.
func summarize(d []int64) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	var sum float64
	for _, v := range d {
		sum += float64(v)
	}
	at := func(q float64) time.Duration {
		rank := int(q*float64(len(d))+0.999999999) - 1
		return time.Duration(d[min(max(rank, 0), len(d)-1)])
	}
	return Percentiles{N: len(d), Mean: time.Duration(sum / float64(len(d))),
		P50: at(0.50), P90: at(0.90), P99: at(0.99), P999: at(0.999), Max: time.Duration(d[len(d)-1])}
}

// Result is what a run measured. Counts are of the requests due in the
// measured window (warm-up requests are not counted, except in
// WarmupErrors).
type Result struct {
	Config Config `json:"config"` // with defaults applied
	// Window is the measured window's length (Config.Duration).
	Window time.Duration `json:"window_ns"`
	// OfferedRate is the rate the schedule asked for (open mode; 0 in
	// closed mode). It is the offered rate only when UnderOffered is false.
	OfferedRate float64 `json:"offered_rate"`
	// DispatchedRate is Dispatched per second of the window: what the
	// generator actually offered.
	DispatchedRate float64 `json:"dispatched_rate"`
	// AchievedRate is the verified responses that arrived within the
	// window, per second of the window.
	AchievedRate float64 `json:"achieved_rate"`

	Scheduled  int64 `json:"scheduled"`  // requests due in the window
	Dispatched int64 `json:"dispatched"` // of those, handed to a connection or queued for one
	Sent       int64 `json:"sent"`       // of those, written to a connection
	OK         int64 `json:"ok"`         // of those, answered 200 with the expected body (window and drain)
	// Errors counts failed requests by kind (Kind.String); absent kinds
	// are zero. ErrorSamples holds the first message of each kind.
	Errors       map[string]int64  `json:"errors,omitempty"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	WarmupErrors int64             `json:"warmup_errors,omitempty"`

	// Latency is from each request's intended send time to its verified
	// response (open mode), or from its send time (closed mode), over
	// the OK requests.
	Latency Percentiles `json:"latency"`
	// Lag is how late the generator handed each request to a connection
	// (or queued it for one) against its schedule: the generator's own
	// delay, from timer granularity and CPU.
	Lag Percentiles `json:"lag"`
	// SendDelay is from each request's intended time to its write: Lag
	// plus any wait for a free connection, and a dial.
	SendDelay Percentiles `json:"send_delay"`
	// UnderOffered reports that the generator could not keep to its
	// schedule (Lag's p99 over Config.MaxLag, or requests never
	// dispatched): the round did not offer OfferedRate and must say so.
	UnderOffered       bool   `json:"under_offered"`
	UnderOfferedReason string `json:"under_offered_reason,omitempty"`

	// Conns is the number of connections opened (redials included);
	// MaxOpen the most open at once.
	Conns   int `json:"conns"`
	MaxOpen int `json:"max_open"`

	// CPU is user+system time of the whole process from the window's
	// start to the end of the run (getrusage RUSAGE_SELF). It is the
	// generator's own only when the generator runs in a process of its
	// own (the concbench loadgen child); CPUScope says "process".
	CPU           time.Duration `json:"cpu_ns"`
	CPUPerRequest time.Duration `json:"cpu_per_request_ns"`
	CPUScope      string        `json:"cpu_scope"`

	// Interrupted is set when the run's context ended it early.
	Interrupted bool `json:"interrupted,omitempty"`

	// Latencies are the OK requests' latencies in nanoseconds, sorted:
	// the samples Latency summarises, for callers in the same process.
	Latencies []int64 `json:"-"`
}

// Failed returns the number of failed requests of the window.
func (r *Result) Failed() int64 {
	var n int64
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// Encode returns r as JSON, the line a generator in a child process writes.
func (r *Result) Encode() ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("loadgen: encode result: %w", err)
	}
	return b, nil
}

// DecodeResult parses a result written by Encode.
func DecodeResult(b []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("loadgen: decode result: %w", err)
	}
	return &r, nil
}

// DecodeConfig parses a config (as a parent writes it for a child).
func DecodeConfig(b []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("loadgen: decode config: %w", err)
	}
	return c, nil
}

// String is a one-line summary.
func (r *Result) String() string {
	s := fmt.Sprintf("%s: offered %.0f/s, achieved %.0f/s, ok %d of %d, p50 %v p99 %v p99.9 %v max %v, lag p99 %v",
		r.Config.Mode, r.OfferedRate, r.AchievedRate, r.OK, r.Scheduled,
		r.Latency.P50, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.Lag.P99)
	if f := r.Failed(); f > 0 {
		s += fmt.Sprintf(", %d errors %v", f, r.Errors)
	}
	if r.UnderOffered {
		s += ", UNDER-OFFERED: " + r.UnderOfferedReason
	}
	return s
}
