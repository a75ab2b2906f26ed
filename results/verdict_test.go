package results

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// cellLines writes six rounds of one cell: time per task, p99 and the
// errors/op of each round.
func cellLines(name, strategy string, ns, p99 float64, errs []float64) string {
	var b strings.Builder
	for r := range 6 {
		e := 0.0
		if r < len(errs) {
			e = errs[r]
		}
		fmt.Fprintf(&b, "Benchmark%s/strategy=%s-2 100 %g ns/op %g p99-sec/op %g errors/op\n",
			name, strategy, ns*(1+0.001*float64(r)), p99*(1+0.001*float64(r)), e)
	}
	return b.String()
}

func TestVerdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		input string
		want  []string // the verdict's lines
	}{
		{
			"fastest with a poor p99: the trade-off in one line",
			cellLines("Web", "blocking", 1000, 2e-6, nil) + cellLines("Web", "simd", 50, 600e-6, nil) +
				cellLines("Web", "goroutines", 400, 400e-9, nil),
			[]string{
				"Web: simd is fastest, 20.00× vs blocking (geomean sec/op over 1 row)",
				"Web: trade-off: goroutines has the best p99, 401.0n against simd's 601.5µ",
			},
		},
		{
			"one strategy best on both",
			cellLines("Hash", "blocking", 1000, 2e-6, nil) + cellLines("Hash", "pool", 500, 1e-6, nil),
			[]string{"Hash: pool is fastest, 2.00× vs blocking (geomean sec/op over 1 row), and has the best p99"},
		},
		{
			"errors in one round rule a strategy out",
			cellLines("Fanout", "blocking", 1000, 2e-6, nil) + cellLines("Fanout", "goroutines", 10, 1e-8, []float64{0, 0, 0.001}) +
				cellLines("Fanout", "pool", 500, 1e-6, nil),
			[]string{
				"Fanout: pool is fastest, 2.00× vs blocking (geomean sec/op over 1 row), and has the best p99",
				"Fanout: not ranked: goroutines (tasks failed: errors/op up to 0.1%)",
			},
		},
		{
			"a simd built without the experiment is named a scalar fallback",
			"simd: scalar fallback (built without GOEXPERIMENT=simd)\n" +
				cellLines("Hash", "blocking", 1000, 2e-6, nil) + cellLines("Hash", "simd(path=scalar)", 500, 1e-6, nil),
			[]string{"Hash: simd(path=scalar) [scalar fallback (built without GOEXPERIMENT=simd)] is fastest, 2.00× vs blocking (geomean sec/op over 1 row), and has the best p99"},
		},
		{
			"a simd on its vector path is named as it is",
			"simd: avx512\n" +
				cellLines("Hash", "blocking", 1000, 2e-6, nil) + cellLines("Hash", "simd(path=avx512)", 500, 1e-6, nil),
			[]string{"Hash: simd(path=avx512) is fastest, 2.00× vs blocking (geomean sec/op over 1 row), and has the best p99"},
		},
		{
			"a failed cell rules its strategy out, every error leaves no winner",
			cellLines("Fanout", "blocking", 1000, 2e-6, []float64{1, 1, 1, 1, 1, 1}) +
				"--- FAIL: BenchmarkFanout/strategy=goroutines-2\n    error rate 100% above --max-errors 0\n",
			[]string{
				"Fanout: no winner: no strategy ran every row without failing or task errors",
				"Fanout: not ranked: blocking (tasks failed: errors/op up to 100%), goroutines (failed)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set := decode(t, tt.input)
			vs := set.Verdicts(Options{})
			if len(vs) != 1 {
				t.Fatalf("%d verdicts, want 1", len(vs))
			}
			if got := vs[0].Lines(); !slices.Equal(got, tt.want) {
				t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			// The tables say the same, whatever units they show.
			var b bytes.Buffer
			if err := WriteTables(&b, set, Options{Units: []string{"B/op"}}); err != nil {
				t.Fatal(err)
			}
			for _, line := range tt.want {
				if !strings.Contains(b.String(), line) {
					t.Errorf("tables lack %q:\n%s", line, b.String())
				}
			}
			// And Winners, from the sec/op tables alone, never names a
			// strategy that erred or failed.
			for _, w := range Winners(set.Tables(Options{Units: []string{TimeUnit}})) {
				for _, e := range vs[0].Excluded {
					if w.Strategy == e.Strategy {
						t.Errorf("Winners names %s, which was left out: %s", w.Strategy, e.Reason)
					}
				}
			}
		})
	}
}

// Errors show in the default tables: a mark on the value, and a note
// naming the strategy and its worst round.
func TestErrorsAreMarked(t *testing.T) {
	t.Parallel()
	set := decode(t, cellLines("Fanout", "blocking", 1000, 2e-6, nil)+
		cellLines("Fanout", "goroutines", 10, 1e-8, []float64{0, 0.25, 0.5}))
	for _, opts := range []Options{{Compact: true, Summary: true}, {Format: Markdown}, {Units: []string{P99Unit}}} {
		var b bytes.Buffer
		if err := WriteTables(&b, set, opts); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if !strings.Contains(out, errorsMark) || !strings.Contains(out, "most errors/op of a round: goroutines 50%") {
			t.Errorf("%+v: no error mark or note:\n%s", opts, out)
		}
	}
	tab := set.Tables(Options{Units: []string{TimeUnit}})[0]
	if got := tab.Marks(0, 1); got != errorsMark {
		t.Errorf("Marks = %q, want %q", got, errorsMark)
	}
	if got := tab.Cells[0][1].MaxErrors; got != 0.5 {
		t.Errorf("MaxErrors = %v, want 0.5", got)
	}
}
