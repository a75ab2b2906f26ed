package results

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"
)

// roundsOf writes one cell's rounds in sec/op with the given iteration
// count, and a steady baseline next to it.
func roundsOf(name string, iters int, values []float64) string {
	var b strings.Builder
	for _, v := range values {
		fmt.Fprintf(&b, "Benchmark%s/strategy=blocking-2 %d 1e-6 sec/op\n", name, iters)
		fmt.Fprintf(&b, "Benchmark%s/strategy=x-2 %d %g sec/op\n", name, iters, v)
	}
	return b.String()
}

func TestUnstableCells(t *testing.T) {
	t.Parallel()
	steady := []float64{100, 101, 99, 100.5, 99.5, 100, 100.2, 99.8}
	tests := []struct {
		name   string
		iters  int
		values []float64
		want   Cause // -1: steady
		detail string
	}{
		{"steady", 1e9, steady, -1, ""},
		{"the bimodal noop of issue 13", 1e9, []float64{122, 80, 78, 348, 90, 372, 99, 387, 85, 368}, TwoLevels, "about 87.50 and 370.00 (6 and 4 rounds)"},
		{"one round stands out", 1e9, []float64{100, 101, 99, 250, 100.5, 99.5, 100, 100.2}, Outlier, "round 4 of 8 at 2.50× the median"},
		{"drift", 1e9, []float64{100, 104, 109, 113, 118, 121, 127, 131}, Drift, "rounds grow slower one after another (first 100.0, last 131.0)"},
		{"noise", 1e9, []float64{100, 115, 92, 108, 95, 111, 89, 104}, Noise, "from 89.00 to 115.00 a task"},
		// One task a round of about 100 µs: 100 µs rounds.
		{"noise in short rounds", 1, []float64{100e-6, 115e-6, 92e-6, 108e-6, 95e-6, 111e-6, 89e-6, 104e-6}, ShortRounds, "a round lasts 102.0µs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set := decode(t, roundsOf("Noop", tt.iters, tt.values))
			cells := set.UnstableCells(Options{})
			if tt.want < 0 {
				if len(cells) != 0 {
					t.Fatalf("unstable: %+v", cells)
				}
				return
			}
			if len(cells) != 1 {
				t.Fatalf("%d unstable cells, want 1: %+v", len(cells), cells)
			}
			c := cells[0]
			if c.Cause != tt.want || !strings.Contains(c.Detail, tt.detail) {
				t.Errorf("cause %v (%s), want %v (%s)", c.Cause, c.Detail, tt.want, tt.detail)
			}
			if c.Strategy != "x" || c.Rounds != len(tt.values) || math.Abs(c.CV-cv(tt.values)) > 1e-12 {
				t.Errorf("cell %+v", c)
			}
			// The tables mark it, and explain the mark once.
			var b bytes.Buffer
			if err := WriteTables(&b, set, Options{Compact: true}); err != nil {
				t.Fatal(err)
			}
			if strings.Count(b.String(), " "+unstableMark+" ") != 1 || strings.Count(b.String(), unstableMark+" unstable:") != 1 {
				t.Errorf("want one marked value and one note:\n%s", b.String())
			}
			b.Reset()
			if err := WriteUnstable(&b, set, Options{}); err != nil {
				t.Fatal(err)
			}
			// Lines are wrapped: compare the words.
			words := strings.Join(strings.Fields(b.String()), " ")
			for _, want := range []string{"Warning: 1 of 2 cells seem unstable", tt.want.String() + ": " + c.Detail,
				tt.detail, tt.want.Why(), tt.want.Cure()} {
				if !strings.Contains(words, want) {
					t.Errorf("warning lacks %q:\n%s", want, b.String())
				}
			}
		})
	}
}

// The limit is configurable, and a negative one marks nothing.
func TestMaxCV(t *testing.T) {
	t.Parallel()
	set := decode(t, roundsOf("Noop", 1e9, []float64{100, 104, 97, 102, 99, 103})) // CV 2.6%
	for _, tc := range []struct {
		limit float64
		want  int
	}{{0, 0}, {0.02, 1}, {0.03, 0}, {-1, 0}} {
		if got := len(set.UnstableCells(Options{MaxCV: tc.limit})); got != tc.want {
			t.Errorf("MaxCV %v: %d unstable cells, want %d", tc.limit, got, tc.want)
		}
		tab := set.Tables(Options{MaxCV: tc.limit})[0]
		if got := tab.Cells[0][1].Unstable; got != (tc.want == 1) {
			t.Errorf("MaxCV %v: Unstable = %v", tc.limit, got)
		}
	}
	var b bytes.Buffer
	if err := WriteUnstable(&b, set, Options{}); err != nil || b.Len() != 0 {
		t.Errorf("a steady set gets a warning (%v):\n%s", err, b.String())
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	if got := spearman([]float64{1, 2, 3, 4, 5}); math.Abs(got-1) > 1e-12 {
		t.Errorf("spearman of a rising run = %v, want 1", got)
	}
	if got := spearman([]float64{5, 3, 3, 1}); math.Abs(got+0.9486832980505138) > 1e-12 {
		t.Errorf("spearman with a tie = %v, want -0.9487", got)
	}
	// Normal rounds: the robust CV is near the CV; an outlier moves the
	// CV, not the robust one.
	if got := robustCV([]float64{98, 100, 102, 100, 99, 101}); math.Abs(got-0.014826) > 1e-9 {
		t.Errorf("robustCV = %v, want 1.4826 × 1 / 100", got)
	}
	if got := robustCV([]float64{98, 100, 102, 100, 99, 1000}); math.Abs(got-0.022239) > 1e-9 {
		t.Errorf("robustCV with an outlier = %v, want 1.4826 × 1.5 / 100", got)
	}
	// (1.96 + 0.8416) · 0.05 · √(0.2 / (3/π)) for 10 rounds a side, CV 5%.
	if got := minDetectableEffect(10, 10, 0.05, 0.05); math.Abs(got-0.06411) > 0.0001 {
		t.Errorf("minDetectableEffect(10, 10, 5%%, 0.05) = %v, want 0.0641", got)
	}
	// Three rounds a side cannot reach p ≤ 0.05: 2/C(6,3) = 0.1.
	if got := minDetectableEffect(3, 3, 0.01, 0.05); !math.IsInf(got, 1) {
		t.Errorf("minDetectableEffect(3, 3) = %v, want +Inf", got)
	}
	// The rounds to detect an effect are the fewest whose MDE is below it.
	for _, c := range []struct{ effect, cv, alpha float64 }{{0.05, 0.05, 0.05}, {0.05, 0.02, 0.05 / 66}, {0.01, 0.03, 0.05}} {
		n := roundsToDetect(c.effect, c.cv, c.alpha)
		if n < 2 || minDetectableEffect(n, n, c.cv, c.alpha) > c.effect || minDetectableEffect(n-1, n-1, c.cv, c.alpha) <= c.effect {
			t.Errorf("roundsToDetect(%v, %v, %v) = %d: MDE there %v, one fewer %v", c.effect, c.cv, c.alpha, n,
				minDetectableEffect(n, n, c.cv, c.alpha), minDetectableEffect(n-1, n-1, c.cv, c.alpha))
		}
	}
	if got := roundsToDetect(0.001, 0.5, 0.05); got != 0 {
		t.Errorf("roundsToDetect of a hopeless case = %d, want 0", got)
	}
}
