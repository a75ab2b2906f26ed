package results

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
)

// servePoint is one serve cell of a hand-built sweep: its rounds' p99s (in
// milliseconds; none: no p99 unit, no verified response), errors/op and
// under-offered flags (missing rounds: 0).
type servePoint struct {
	rate  int
	p99   []float64
	errs  []float64
	under []float64
}

// serveLines writes the rounds of a strategy's sweep in the harness's
// format, SLO slo and backend latency 1ms.
func serveLines(strategy, slo string, points ...servePoint) string {
	var b strings.Builder
	for _, p := range points {
		for r := range max(len(p.p99), len(p.errs), len(p.under), 1) {
			at := func(v []float64) float64 {
				if r < len(v) {
					return v[r]
				}
				return 0
			}
			fmt.Fprintf(&b, "BenchmarkServe/rate=%d/latency=1ms/slo=%s/strategy=%s-2 %d %g req/s", p.rate, slo, strategy, p.rate, float64(p.rate)*0.99)
			if r < len(p.p99) {
				fmt.Fprintf(&b, " %g p99-sec/op", p.p99[r]/1e3)
			}
			fmt.Fprintf(&b, " %g errors/op %g under-offered\n", at(p.errs), at(p.under))
		}
	}
	return b.String()
}

// ms lists the rounds' p99s in milliseconds, or their errors/op or flags.
func ms(v ...float64) []float64 { return v }

func decodeServe(t *testing.T, input string) *Set {
	t.Helper()
	set, err := Decode(strings.NewReader("Unit req/s better=higher\nUnit under-offered better=lower\n\n"+input), "bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestSaturationRule checks the rule on hand-built sweeps: the highest
// rate sustained with every lower one sustained, the first that is not and
// why, and how the figure reads (a knee, ≥ a bound, < the lowest).
func TestSaturationRule(t *testing.T) {
	t.Parallel()
	ok := ms(2, 3, 2.5) // p99 in ms, within the 10ms SLO
	tests := []struct {
		name       string
		input      string
		throughput float64
		bound      string
		limit      float64 // rate of the first point not sustained, 0: none
		verdict    RateVerdict
		reason     string
	}{
		{"a knee: the first rate over the SLO ends the search",
			serveLines("reactor", "10ms", servePoint{rate: 500, p99: ok}, servePoint{rate: 1000, p99: ok},
				servePoint{rate: 2000, p99: ms(30, 40, 25)}, servePoint{rate: 4000, p99: ms(900, 800, 950)}),
			1000, "", 2000, OverSLO, "p99 30ms > SLO 10ms"},
		{"the median of the rounds decides: one slow round of three does not fail a rate",
			serveLines("reactor", "10ms", servePoint{rate: 500, p99: ms(2, 50, 3)}, servePoint{rate: 1000, p99: ms(40, 45, 5)}),
			500, "", 1000, OverSLO, "p99 40ms > SLO 10ms"},
		{"one round with a failed request fails a rate whose p99 passes",
			serveLines("pool", "10ms", servePoint{rate: 500, p99: ok}, servePoint{rate: 1000, p99: ok, errs: ms(0, 0.004, 0)}),
			500, "", 1000, WithErrors, "errors: 0.4% of requests failed"},
		{"a rate not offered ends the search, and the figure is a lower bound",
			serveLines("goroutines", "10ms", servePoint{rate: 500, p99: ok}, servePoint{rate: 1000, p99: ok, under: ms(0, 1, 0)},
				servePoint{rate: 2000, p99: ok}),
			500, "≥", 1000, NotOffered, "not offered: the generator fell behind its schedule"},
		{"every rate sustained: at least the sweep's top",
			serveLines("simd", "10ms", servePoint{rate: 500, p99: ok}, servePoint{rate: 8000, p99: ok}),
			8000, "≥", 0, Sustained, ""},
		{"even the lowest rate over the SLO: below it",
			serveLines("blocking", "10ms", servePoint{rate: 500, p99: ms(200, 210, 190)}, servePoint{rate: 1000, p99: ms(900)}),
			500, "<", 500, OverSLO, "p99 200ms > SLO 10ms"},
		{"not even the lowest rate offered: unknown",
			serveLines("goroutines", "10ms", servePoint{rate: 500, p99: ok, under: ms(1, 0, 0)}, servePoint{rate: 1000, p99: ok}),
			500, "?", 500, NotOffered, "not offered: the generator fell behind its schedule"},
		{"a rate that passes above a failed one does not count",
			serveLines("threads", "10ms", servePoint{rate: 500, p99: ok}, servePoint{rate: 1000, p99: ms(12, 11, 13)},
				servePoint{rate: 2000, p99: ok}),
			500, "", 1000, OverSLO, "p99 12ms > SLO 10ms"},
		{"no verified response: no p99, and errors",
			serveLines("threads", "10ms", servePoint{rate: 500, p99: ok}, servePoint{rate: 1000, errs: ms(1, 1)}),
			500, "", 1000, WithErrors, "errors: 100% of requests failed"},
		{"a failed cell",
			serveLines("nethttp(conns=256)", "10ms", servePoint{rate: 500, p99: ok}) +
				"--- FAIL: BenchmarkServe/rate=1000/latency=1ms/slo=10ms/strategy=nethttp(conns=256)-2\n    3 responses were not the page the reference expects\n",
			500, "", 1000, CellFailed, "the cell failed"},
		{"the SLO is the cells' own",
			serveLines("pool", "50ms", servePoint{rate: 500, p99: ok}, servePoint{rate: 1000, p99: ms(30, 40, 25)},
				servePoint{rate: 2000, p99: ms(60)}),
			1000, "", 2000, OverSLO, "p99 60ms > SLO 50ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			groups := decodeServe(t, tt.input).Saturation(Options{})
			if len(groups) != 1 || len(groups[0].Strategies) != 1 {
				t.Fatalf("Saturation gave %d groups, want 1 with 1 strategy: %+v", len(groups), groups)
			}
			g := groups[0]
			s := &g.Strategies[0]
			if got := s.Throughput(); got != tt.throughput || s.Bound() != tt.bound {
				t.Errorf("sustainable %s%v, want %s%v (points %+v)", s.Bound(), got, tt.bound, tt.throughput, s.Points)
			}
			switch {
			case tt.limit == 0 && s.Limit >= 0:
				t.Errorf("limit at %v (%v), want none", s.Points[s.Limit].Rate, s.Points[s.Limit].Verdict)
			case tt.limit != 0 && s.Limit < 0:
				t.Errorf("no limit, want %v", tt.limit)
			case tt.limit != 0:
				p := s.Points[s.Limit]
				if p.Rate != tt.limit || p.Verdict != tt.verdict || p.Reason(g.SLO) != tt.reason {
					t.Errorf("limit %v %v %q, want %v %v %q", p.Rate, p.Verdict, p.Reason(g.SLO), tt.limit, tt.verdict, tt.reason)
				}
			}
		})
	}
}

// TestSaturationGroupsAndColumns: cells that differ in more than their
// rate are apart, strategies keep the tables' column order (baseline
// first), and a row without rate= or slo= is not a serve sweep.
func TestSaturationGroupsAndColumns(t *testing.T) {
	t.Parallel()
	ok := ms(2)
	input := serveLines("reactor", "10ms", servePoint{rate: 500, p99: ok}, servePoint{rate: 1000, p99: ok}) +
		serveLines("blocking", "10ms", servePoint{rate: 500, p99: ms(300)}, servePoint{rate: 1000, p99: ms(900)}) +
		strings.ReplaceAll(serveLines("reactor", "10ms", servePoint{rate: 500, p99: ms(4)}, servePoint{rate: 1000, p99: ms(20)}), "latency=1ms", "latency=0s") +
		"BenchmarkServe/latency=1ms/strategy=reactor-2 10 2e-3 p99-sec/op\n" +
		"BenchmarkFanout/rate=5/strategy=reactor-2 10 1000 ns/op 2e-3 p99-sec/op\n"
	groups := decodeServe(t, input).Saturation(Options{})
	var got []string
	for _, g := range groups {
		var ss []string
		for _, s := range g.Strategies {
			ss = append(ss, fmt.Sprintf("%s %s%v", s.Strategy, s.Bound(), s.Throughput()))
		}
		got = append(got, fmt.Sprintf("%s %s %v %v: %s", g.Workload, g.Group, g.SLO, g.Rates, strings.Join(ss, ", ")))
	}
	want := []string{
		"Serve latency=1ms/slo=10ms-2 0.01 [500 1000]: blocking <500, reactor ≥1000",
		"Serve latency=0s/slo=10ms-2 0.01 [500 1000]: reactor 500",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("groups:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if groups := decodeServe(t, cellLines("Web", "blocking", 1000, 2e-6, nil)).Saturation(Options{}); groups != nil {
		t.Errorf("a set without serve cells has saturation groups: %+v", groups)
	}
}

// TestWriteSaturation: the table says the figure, the p99 and rate served
// there, and the first rate not sustained with why, in text and Markdown;
// compact text shortens labels with a legend; other formats write nothing.
func TestWriteSaturation(t *testing.T) {
	t.Parallel()
	set := decodeServe(t, serveLines("reactor(loops=1)", "10ms", servePoint{rate: 500, p99: ms(2.345)},
		servePoint{rate: 1000, p99: ms(25)})+
		serveLines("blocking", "10ms", servePoint{rate: 500, p99: ms(300)}))
	for _, tt := range []struct {
		opts      Options
		want, not []string
	}{
		{Options{Format: Text},
			[]string{"Serve latency=1ms/slo=10ms-2 · sustainable throughput", "p99 within 10ms", "500/s to 1000/s",
				"│ reactor(loops=1) │", "500/s", "2.35ms", "495/s", "1000/s: p99 25ms > SLO 10ms", "<500/s", "500/s: p99 300ms > SLO 10ms"},
			nil},
		{Options{Format: Markdown},
			[]string{"### Serve latency=1ms/slo=10ms-2 · sustainable throughput", "| reactor(loops=1) |", "| strategy ", "- sustainable: the highest offered rate"}, nil},
		{Options{Format: Text},
			[]string{"unknown: not even the lowest rate was offered"}, nil},
		{Options{Format: Text, Compact: true},
			[]string{"reactor = reactor(loops=1)", "│ reactor  │"}, []string{"│ reactor(loops=1) │"}},
		{Options{Format: CSV}, nil, []string{"Serve"}},
	} {
		var b bytes.Buffer
		if err := WriteSaturation(&b, set, tt.opts); err != nil {
			t.Fatal(err)
		}
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%v: output lacks %q:\n%s", tt.opts.Format, w, b.String())
			}
		}
		for _, n := range tt.not {
			if strings.Contains(b.String(), n) {
				t.Errorf("%v: output has %q:\n%s", tt.opts.Format, n, b.String())
			}
		}
	}
}

func TestSecondsAndRateTexts(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		got, want string
	}{
		{secondsText(0.0042345), "4.23ms"},
		{secondsText(1.2345), "1.23s"},
		{secondsText(850e-9), "850ns"},
		{secondsText(math.NaN()), "?"},
		{rateText(7998.4), "7998/s"},
		{rateText(1.5), "1.5/s"},
		{percentText(0.004), "0.4%"},
		{percentText(0.0123), "1.2%"},
		{percentText(1), "100%"},
	} {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
}
