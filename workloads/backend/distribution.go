package backend

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// DistributionKind names the shape of a latency distribution.
type DistributionKind uint8

// The latency shapes.
const (
	KindConstant    DistributionKind = iota // always A
	KindUniform                             // uniform in [A, B]
	KindExponential                         // exponential with mean A
	KindLogNormal                           // log-normal with median A and 99th percentile B
)

// maxSample caps a sampled latency: a log-normal's far tail could overflow
// time.Duration, and no client waits an hour anyway.
const maxSample = time.Hour

// z99 is the standard normal's 99th percentile: a log-normal with median m
// and 99th percentile p has sigma = ln(p/m) / z99.
const z99 = 2.3263478740408408

// Distribution is the injected latency of each request: the time between
// reading the request and sending its reply. The zero value is a constant
// zero: no injected latency.
type Distribution struct {
	Kind DistributionKind
	A, B time.Duration // parameters; see the kinds
}

// Constant returns a distribution that is always d.
func Constant(d time.Duration) Distribution { return Distribution{Kind: KindConstant, A: d} }

// Uniform returns a distribution uniform in [lo, hi].
func Uniform(lo, hi time.Duration) Distribution { return Distribution{Kind: KindUniform, A: lo, B: hi} }

// Exponential returns an exponential distribution with the given mean: the
// latency of independent arrivals, with a long thin tail.
func Exponential(mean time.Duration) Distribution {
	return Distribution{Kind: KindExponential, A: mean}
}

// LogNormal returns a log-normal distribution with the given median and
// 99th percentile: the usual shape of a service's response times.
func LogNormal(median, p99 time.Duration) Distribution {
	return Distribution{Kind: KindLogNormal, A: median, B: p99}
}

// IsZero reports whether the distribution always yields zero, so the server
// can skip clocks and timers entirely.
func (d Distribution) IsZero() bool {
	switch d.Kind {
	case KindUniform:
		return d.A == 0 && d.B == 0
	default:
		return d.A == 0
	}
}

// Validate reports whether the parameters make sense.
func (d Distribution) Validate() error {
	switch {
	case d.Kind > KindLogNormal:
		return fmt.Errorf("unknown distribution kind %d", d.Kind)
	case d.A < 0 || d.B < 0:
		return fmt.Errorf("latency %v: negative duration", d)
	case d.Kind == KindUniform && d.B < d.A:
		return fmt.Errorf("latency %v: max below min", d)
	case d.Kind == KindLogNormal && (d.A == 0 || d.B < d.A):
		return fmt.Errorf("latency %v: log-normal needs 0 < median <= p99", d)
	}
	return nil
}

// Sample draws one latency.
func (d Distribution) Sample(r *rand.Rand) time.Duration {
	switch d.Kind {
	case KindUniform:
		if d.B <= d.A {
			return d.A
		}
		return d.A + time.Duration(r.Int64N(int64(d.B-d.A)+1))
	case KindExponential:
		return time.Duration(r.ExpFloat64() * float64(d.A))
	case KindLogNormal:
		sigma := math.Log(float64(d.B)/float64(d.A)) / z99
		v := float64(d.A) * math.Exp(sigma*r.NormFloat64())
		return time.Duration(min(v, float64(maxSample))) // a far tail must not overflow
	default:
		return d.A
	}
}

// String returns the form ParseDistribution reads: "1ms", "uniform:500us-2ms",
// "exp:1ms", "lognormal:1ms,p99=10ms". Durations use "us", not "µs", so the
// string is plain ASCII for command lines and RESP.
func (d Distribution) String() string {
	switch d.Kind {
	case KindConstant:
		return formatDuration(d.A)
	case KindUniform:
		return "uniform:" + formatDuration(d.A) + "-" + formatDuration(d.B)
	case KindExponential:
		return "exp:" + formatDuration(d.A)
	case KindLogNormal:
		return "lognormal:" + formatDuration(d.A) + ",p99=" + formatDuration(d.B)
	}
	return fmt.Sprintf("Distribution(%d,%v,%v)", d.Kind, d.A, d.B)
}

func formatDuration(d time.Duration) string {
	return strings.ReplaceAll(d.String(), "µ", "u")
}

// ParseDistribution parses a latency distribution:
//
//	0, 1ms, const:1ms        constant
//	uniform:500us-2ms        uniform between the two
//	exp:1ms                  exponential with that mean
//	lognormal:1ms,p99=10ms   log-normal with that median and 99th percentile
func ParseDistribution(s string) (Distribution, error) {
	kind, arg, found := strings.Cut(strings.TrimSpace(s), ":")
	if !found {
		kind, arg = "const", kind
	}
	var d Distribution
	var err error
	switch strings.ToLower(kind) {
	case "const", "constant":
		d.Kind = KindConstant
		d.A, err = parseDuration(arg)
	case "uniform":
		lo, hi, ok := strings.Cut(arg, "-")
		if !ok {
			return Distribution{}, fmt.Errorf("latency %q: want uniform:MIN-MAX, e.g. uniform:500us-2ms", s)
		}
		d.Kind = KindUniform
		if d.A, err = parseDuration(lo); err == nil {
			d.B, err = parseDuration(hi)
		}
	case "exp", "exponential":
		d.Kind = KindExponential
		d.A, err = parseDuration(arg)
	case "lognormal":
		med, p99, ok := strings.Cut(arg, ",")
		p99, ok2 := strings.CutPrefix(strings.TrimSpace(p99), "p99=")
		if !ok || !ok2 {
			return Distribution{}, fmt.Errorf("latency %q: want lognormal:MEDIAN,p99=P99, e.g. lognormal:1ms,p99=10ms", s)
		}
		d.Kind = KindLogNormal
		if d.A, err = parseDuration(med); err == nil {
			d.B, err = parseDuration(p99)
		}
	default:
		return Distribution{}, fmt.Errorf("latency %q: unknown distribution %q (want a duration, uniform:, exp: or lognormal:)", s, kind)
	}
	if err != nil {
		return Distribution{}, fmt.Errorf("latency %q: %w", s, err)
	}
	if err := d.Validate(); err != nil {
		return Distribution{}, err
	}
	return d, nil
}

func parseDuration(s string) (time.Duration, error) {
	return time.ParseDuration(strings.TrimSpace(s))
}
