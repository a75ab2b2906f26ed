package backend

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseDistribution(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Distribution
		str  string
	}{
		{"0", Distribution{}, "0s"},
		{"1ms", Constant(time.Millisecond), "1ms"},
		{"const:250us", Constant(250 * time.Microsecond), "250us"},
		{"uniform:0.5ms-2ms", Uniform(500*time.Microsecond, 2*time.Millisecond), "uniform:500us-2ms"},
		{"exp:1ms", Exponential(time.Millisecond), "exp:1ms"},
		{"lognormal:1ms,p99=10ms", LogNormal(time.Millisecond, 10*time.Millisecond), "lognormal:1ms,p99=10ms"},
	}
	for _, tt := range tests {
		d, err := ParseDistribution(tt.in)
		if err != nil || d != tt.want {
			t.Errorf("ParseDistribution(%q) = %v, %v; want %v", tt.in, d, err, tt.want)
			continue
		}
		if d.String() != tt.str {
			t.Errorf("%q: String() = %q, want %q", tt.in, d.String(), tt.str)
		}
		if back, err := ParseDistribution(d.String()); err != nil || back != d {
			t.Errorf("%q does not round-trip: %v, %v", d.String(), back, err)
		}
	}
	for _, bad := range []string{"", "fast", "uniform:1ms", "uniform:2ms-1ms", "exp:-1ms", "lognormal:1ms",
		"lognormal:10ms,p99=1ms", "gauss:1ms", "-1ms"} {
		if d, err := ParseDistribution(bad); err == nil {
			t.Errorf("ParseDistribution(%q) = %v, want an error", bad, d)
		} else if !strings.Contains(err.Error(), "latency") {
			t.Errorf("ParseDistribution(%q): error %q does not say what it parsed", bad, err)
		}
	}
}

func TestDistributionSample(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	quantile := func(d Distribution, q float64) time.Duration {
		s := make([]time.Duration, 20000)
		for i := range s {
			s[i] = d.Sample(r)
			if s[i] < 0 {
				t.Fatalf("%v: negative sample", d)
			}
		}
		slices.Sort(s)
		return s[int(q*float64(len(s)))]
	}
	near := func(got, want time.Duration) bool { return got > want*8/10 && got < want*12/10 }
	ms := time.Millisecond
	if got := quantile(Constant(ms), 0.5); got != ms {
		t.Errorf("constant median %v", got)
	}
	if got := quantile(Uniform(ms, 3*ms), 0.5); !near(got, 2*ms) {
		t.Errorf("uniform median %v", got)
	}
	if got := quantile(Exponential(ms), 0.5); !near(got, 693*time.Microsecond) { // ln 2
		t.Errorf("exponential median %v", got)
	}
	if got := quantile(LogNormal(ms, 10*ms), 0.5); !near(got, ms) {
		t.Errorf("lognormal median %v", got)
	}
	if got := quantile(LogNormal(ms, 10*ms), 0.99); !near(got, 10*ms) {
		t.Errorf("lognormal p99 %v", got)
	}
}
