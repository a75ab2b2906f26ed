package results

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/perf/benchmath"
)

// spread are eight evenly spaced multipliers, ±1.75% around 1: a
// cell's rounds in the synthetic files.
var spread = []float64{0.9825, 0.9875, 0.9925, 0.9975, 1.0025, 1.0075, 1.0125, 1.0175}

// interleaved are multipliers that overlap spread's evenly: noise.
var interleaved = []float64{0.985, 0.99, 0.995, 1.0, 1.005, 1.01, 1.015, 1.02}

// A synthCell is one cell of a synthetic bench file: unit → rounds.
type synthCell struct {
	name   string
	values map[string][]float64
}

func scaled(base float64, mult []float64) []float64 {
	out := make([]float64, len(mult))
	for i, m := range mult {
		out[i] = base * m
	}
	return out
}

// writeBench writes a bench file with the given machine header, unit
// declarations and cells, one line per round, and returns its path.
func writeBench(t *testing.T, name string, header map[string]string, units []string, cells []synthCell) string {
	t.Helper()
	var b strings.Builder
	h := map[string]string{"goos": "linux", "goarch": "amd64", "cpu": "AMD EPYC", "cpu-features": "avx2,avx512f",
		"gomaxprocs": "2", "goexperiment": "simd"}
	for k, v := range header {
		h[k] = v
	}
	for _, k := range []string{"goos", "goarch", "cpu", "cpu-features", "gomaxprocs", "goexperiment"} {
		fmt.Fprintf(&b, "%s: %s\n", k, h[k])
	}
	for _, u := range units {
		fmt.Fprintf(&b, "Unit %s\n", u)
	}
	for _, c := range cells {
		n := 0
		for _, vs := range c.values {
			n = max(n, len(vs))
		}
		for i := range n {
			fmt.Fprintf(&b, "Benchmark%s\t1", c.name)
			for _, unit := range []string{"sec/op", "ns/op", "tasks/s", "frobs/op"} {
				if vs := c.values[unit]; i < len(vs) {
					fmt.Fprintf(&b, "\t%g %s", vs[i], unit)
				}
			}
			b.WriteString("\n")
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCompareVerdicts(t *testing.T) {
	t.Parallel()
	const cell = "Hash/tasks=100/strategy=pool-2"
	ns := func(base float64, mult []float64) synthCell {
		return synthCell{cell, map[string][]float64{"ns/op": scaled(base, mult)}}
	}
	tests := []struct {
		name     string
		old, new synthCell
		units    []string
		declare  []string
		want     Verdict
	}{
		{"clear regression", ns(100, spread), ns(120, spread), nil, nil, Regressed},
		{"noise", ns(100, spread), ns(100, interleaved), nil, nil, Unchanged},
		{"improvement", ns(100, spread), ns(80, spread), nil, nil, Improved},
		{"below threshold", ns(100, spread), ns(104, spread), nil, nil, WithinThreshold},
		{"better=higher decreasing",
			synthCell{cell, map[string][]float64{"frobs/op": scaled(100, spread)}},
			synthCell{cell, map[string][]float64{"frobs/op": scaled(80, spread)}},
			[]string{"frobs/op"}, []string{"frobs/op better=higher"}, Regressed},
		{"better=higher increasing",
			synthCell{cell, map[string][]float64{"frobs/op": scaled(100, spread)}},
			synthCell{cell, map[string][]float64{"frobs/op": scaled(120, spread)}},
			[]string{"frobs/op"}, []string{"frobs/op better=higher"}, Improved},
		{"tasks/s decreasing",
			synthCell{cell, map[string][]float64{"tasks/s": scaled(1000, spread)}},
			synthCell{cell, map[string][]float64{"tasks/s": scaled(800, spread)}},
			[]string{"tasks/s"}, nil, Regressed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			old, err := Read(writeBench(t, "old.txt", nil, tt.declare, []synthCell{tt.old}))
			if err != nil {
				t.Fatal(err)
			}
			new, err := Read(writeBench(t, "new.txt", nil, tt.declare, []synthCell{tt.new}))
			if err != nil {
				t.Fatal(err)
			}
			d, err := Compare(old, new, CompareOptions{Units: tt.units, Threshold: DefaultThreshold})
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Cells) != 1 {
				t.Fatalf("got %d cells, want 1", len(d.Cells))
			}
			if got := d.Cells[0].Verdict; got != tt.want {
				t.Errorf("verdict %v, want %v (change %+.2f%%, p=%.4f)", got, tt.want, 100*d.Cells[0].Change, d.Cells[0].P)
			}
		})
	}
}

// holmCells are four cells: one changed by about 7% with a raw p of
// 0.021, three unchanged. Alone the first is a regression; with Holm's
// correction over four cells its p becomes 0.083.
func holmCells() (old, new []synthCell) {
	base := []float64{100, 102, 104, 106, 108, 110, 112, 114}
	shifted := make([]float64, len(base))
	for i, v := range base {
		shifted[i] = v + 7.5
	}
	old = append(old, synthCell{"Mixed/cpu=50us/strategy=pool-2", map[string][]float64{"ns/op": base}})
	new = append(new, synthCell{"Mixed/cpu=50us/strategy=pool-2", map[string][]float64{"ns/op": shifted}})
	for i := range 3 {
		name := fmt.Sprintf("Mixed/cpu=%dus/strategy=pool-2", 100*(i+1))
		old = append(old, synthCell{name, map[string][]float64{"ns/op": scaled(100, spread)}})
		new = append(new, synthCell{name, map[string][]float64{"ns/op": scaled(100, interleaved)}})
	}
	return old, new
}

func TestCompareHolm(t *testing.T) {
	t.Parallel()
	oc, nc := holmCells()
	old, _ := Read(writeBench(t, "old.txt", nil, nil, oc))
	new, _ := Read(writeBench(t, "new.txt", nil, nil, nc))
	for _, tc := range []struct {
		c    Correction
		want int
	}{{NoCorrection, 1}, {Holm, 0}} {
		d, err := Compare(old, new, CompareOptions{Threshold: DefaultThreshold, Correction: tc.c})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(d.Regressions()); got != tc.want {
			t.Errorf("correction %v: %d regressions, want %d (p raw %.4f, corrected %.4f)",
				tc.c, got, tc.want, d.Cells[0].Test.P, d.Cells[0].P)
		}
	}
}

func TestHolmAdjustment(t *testing.T) {
	t.Parallel()
	ps := []float64{0.01, 0.04, 0.03, 0.005}
	want := []float64{0.03, 0.06, 0.06, 0.02}
	var cells []*CellDiff
	for _, p := range ps {
		cells = append(cells, &CellDiff{Test: benchmath.Comparison{P: p}})
	}
	holm(cells)
	for i, c := range cells {
		if math.Abs(c.P-want[i]) > 1e-12 {
			t.Errorf("p=%v: adjusted %v, want %v", ps[i], c.P, want[i])
		}
	}
}

func TestCompareErrors(t *testing.T) {
	t.Parallel()
	cell := func(n int) []synthCell {
		return []synthCell{{"Dot/strategy=simd(batch=256,path=avx512)-2", map[string][]float64{"ns/op": scaled(100, spread[:n])}}}
	}
	avx2 := []synthCell{{"Dot/strategy=simd(batch=256,path=avx2)-2", map[string][]float64{"ns/op": scaled(100, spread)}}}
	other := []synthCell{{"Hash/strategy=pool-2", map[string][]float64{"ns/op": scaled(100, spread)}}}
	tests := []struct {
		name     string
		oldH     map[string]string
		old, new []synthCell
		allow    bool
		want     error
		wantText string
	}{
		{"cpu", map[string]string{"cpu": "Intel Xeon"}, cell(8), cell(8), false, ErrMismatch, "cpu: Intel Xeon vs AMD EPYC"},
		{"cpu allowed", map[string]string{"cpu": "Intel Xeon"}, cell(8), cell(8), true, nil, ""},
		{"gomaxprocs", map[string]string{"gomaxprocs": "4"}, cell(8), cell(8), false, ErrMismatch, "gomaxprocs"},
		{"simd path", nil, cell(8), avx2, false, ErrMismatch, "avx512 vs avx2"},
		{"simd path allowed", nil, cell(8), avx2, true, nil, ""},
		{"no common cells", nil, cell(8), other, false, ErrNoCommonCells, ""},
		{"too few samples", nil, cell(3), cell(3), false, ErrTooFewSamples, "needs ≥4 each"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			old, _ := Read(writeBench(t, "old.txt", tt.oldH, nil, tt.old))
			new, _ := Read(writeBench(t, "new.txt", nil, nil, tt.new))
			d, err := Compare(old, new, CompareOptions{AllowMismatch: tt.allow, Threshold: DefaultThreshold})
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
			if err == nil && len(d.Cells) != 1 {
				t.Errorf("allowed mismatch: %d cells judged, want 1", len(d.Cells))
			}
		})
	}
}

// TestSamplesNeededMatchesBenchmath checks our count against the
// warning benchmath itself gives when samples are too few.
func TestSamplesNeededMatchesBenchmath(t *testing.T) {
	t.Parallel()
	for _, alpha := range []float64{0.05, 0.01, 0.001} {
		n := SamplesNeeded(alpha, 1, NoCorrection)
		th := benchmath.DefaultThresholds
		th.CompareAlpha = alpha
		a := benchmath.NewSample([]float64{1, 2}, &th)
		cmp := benchmath.AssumeNothing.Compare(a, benchmath.NewSample([]float64{3, 4}, &th))
		want := fmt.Sprintf("need >= %d samples", n)
		if len(cmp.Warnings) == 0 || !strings.Contains(cmp.Warnings[0].Error(), want) {
			t.Errorf("alpha %v: we need %d; benchmath warns %v", alpha, n, cmp.Warnings)
		}
	}
	if got := SamplesNeeded(0.05, 55, Holm); got != 7 {
		t.Errorf("Holm over 55 cells: need %d, want 7", got)
	}
}

func TestSplitSimdPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][2]string{
		"Dot/strategy=simd(batch=256,path=avx512)-2": {"Dot/strategy=simd(batch=256)-2", "avx512"},
		"Dot/strategy=simd(path=scalar,batch=8)-2":   {"Dot/strategy=simd(batch=8)-2", "scalar"},
		"Dot/strategy=simd(path=avx2)-2":             {"Dot/strategy=simd-2", "avx2"},
		"Dot/strategy=pool(workers=8)-2":             {"Dot/strategy=pool(workers=8)-2", ""},
	} {
		name, path := splitSimdPath(in)
		if name != want[0] || path != want[1] {
			t.Errorf("splitSimdPath(%q) = %q, %q; want %q, %q", in, name, path, want[0], want[1])
		}
	}
}

func TestWriteDiffFormats(t *testing.T) {
	t.Parallel()
	oc, nc := holmCells()
	old, _ := Read(writeBench(t, "old.txt", nil, nil, oc))
	new, _ := Read(writeBench(t, "new.txt", nil, nil, nc))
	d, err := Compare(old, new, CompareOptions{Threshold: DefaultThreshold, Correction: NoCorrection})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{Text, ASCII, Markdown, CSV, JSON} {
		var b bytes.Buffer
		if err := WriteDiff(&b, d, f); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		if !strings.Contains(b.String(), "Mixed/cpu=50us/strategy=pool-2") || !strings.Contains(b.String(), "REGRESSED") {
			t.Errorf("%v output lacks the regressed cell:\n%s", f, b.String())
		}
		var c bytes.Buffer
		if err := WriteCalibration(&c, Calibrate(d), f); err != nil {
			t.Fatalf("calibration %v: %v", f, err)
		}
	}
	cal := Calibrate(d)
	if cal.MaxCell != "Mixed/cpu=50us/strategy=pool-2 sec/op" || math.Abs(cal.MaxChange-d.Cells[0].Change) > 1e-12 {
		t.Errorf("calibration max %v at %q, want %v at the first cell", cal.MaxChange, cal.MaxCell, d.Cells[0].Change)
	}
}

// TestCompareMatchesBenchstat runs `go tool benchstat OLD NEW` on two real
// runs and checks that every center, CI, delta and p-value of our
// comparison's CSV output is benchstat's, as text.
func TestCompareMatchesBenchstat(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH, so benchstat cannot run: skipping the equivalence test")
	}
	oldPath, _ := filepath.Abs("testdata/compare/old.txt")
	newPath, _ := filepath.Abs("testdata/compare/new.txt")
	cmd := exec.Command(goTool, "tool", "benchstat", "-format", "csv", "-table", "", "-col", ".file",
		"old="+oldPath, "new="+newPath)
	cmd.Dir = moduleRoot(t, goTool)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, stderr.String())
	}
	want := map[[2]string]statCell{} // by (unit, cell)
	for _, tab := range parseBenchstatCSV(t, stdout.Bytes()) {
		for k, c := range tab.cells {
			if k[1] == "new" {
				name, _ := splitSimdPath(k[0])
				oldCell := tab.cells[[2]string{k[0], "old"}]
				c.center, c.ci = oldCell.center+" "+oldCell.ci+" → "+c.center+" "+c.ci, ""
				want[[2]string{tab.unit, name}] = c
			}
		}
	}

	old, err := Read(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	new, err := Read(newPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Compare(old, new, CompareOptions{AllUnits: true, Correction: NoCorrection})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteDiff(&b, d, CSV); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	got := 0
	for _, r := range recs[1:] {
		key := [2]string{r[col["unit"]], r[col["cell"]]}
		w, ok := want[key]
		if !ok {
			t.Errorf("%v: not in benchstat's output", key)
			continue
		}
		got++
		g := statCell{
			center: r[col["old"]] + " " + r[col["old_ci"]] + " → " + r[col["new"]] + " " + r[col["new_ci"]],
			delta:  r[col["delta"]], p: r[col["test"]],
		}
		if g != w {
			t.Errorf("%v:\n got %+v\nwant %+v", key, g, w)
		}
		// The raw p in its own column is the test's, unrounded.
		p, _ := strconv.ParseFloat(r[col["p_raw"]], 64)
		n1, _ := strconv.Atoi(r[col["old_n"]])
		n2, _ := strconv.Atoi(r[col["new_n"]])
		if s := (benchmath.Comparison{P: p, N1: n1, N2: n2}).String(); s != w.p {
			t.Errorf("%v: p_raw %v reads %q, benchstat %q", key, p, s, w.p)
		}
	}
	if got != len(want) || got == 0 {
		t.Errorf("compared %d cells, benchstat %d", got, len(want))
	}
}

// The adjusted p-values are R's p.adjust(p, "BH"):
// p.adjust(c(0.01, 0.04, 0.03, 0.005), "BH") = 0.02 0.04 0.04 0.02.
func TestBenjaminiHochbergAdjustment(t *testing.T) {
	t.Parallel()
	ps := []float64{0.01, 0.04, 0.03, 0.005}
	want := []float64{0.02, 0.04, 0.04, 0.02}
	var cells []*CellDiff
	for _, p := range ps {
		cells = append(cells, &CellDiff{Test: benchmath.Comparison{P: p}})
	}
	benjaminiHochberg(cells)
	for i, c := range cells {
		if math.Abs(c.P-want[i]) > 1e-12 {
			t.Errorf("p=%v: adjusted %v, want %v", ps[i], c.P, want[i])
		}
	}
}

// spreadCells are n cells, each slower by shift on the new side.
func spreadCells(n int, shift float64) (old, new []synthCell) {
	base := []float64{100, 102, 104, 106, 108, 110, 112, 114}
	for i := range n {
		name := fmt.Sprintf("Hash/size=%d/strategy=pool-2", i)
		shifted := make([]float64, len(base))
		for k, v := range base {
			shifted[k] = v + shift
		}
		old = append(old, synthCell{name, map[string][]float64{"ns/op": base}})
		new = append(new, synthCell{name, map[string][]float64{"ns/op": shifted}})
	}
	return old, new
}

// A slowdown that shows in every cell, each with a raw p near 0.02: Holm
// tests the smallest at α/m and flags none; Benjamini–Hochberg, the
// default, flags them all. With one changed cell among unchanged ones
// (holmCells), neither does: BH is no laxer there.
func TestCorrectionsPower(t *testing.T) {
	t.Parallel()
	oc, nc := spreadCells(6, 7.5)
	old, _ := Read(writeBench(t, "old.txt", nil, nil, oc))
	new, _ := Read(writeBench(t, "new.txt", nil, nil, nc))
	for _, tc := range []struct {
		c    Correction
		want int
	}{{BenjaminiHochberg, 6}, {Holm, 0}, {NoCorrection, 6}} {
		d, err := Compare(old, new, CompareOptions{Threshold: DefaultThreshold, Correction: tc.c})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(d.Regressions()); got != tc.want {
			t.Errorf("%v: %d regressions of 6, want %d (raw p %.4f, adjusted %.4f)", tc.c, got, tc.want, d.Cells[0].Test.P, d.Cells[0].P)
		}
	}
	if (CompareOptions{}).Correction != BenjaminiHochberg {
		t.Error("the zero CompareOptions do not use Benjamini–Hochberg")
	}
	ho, hn := holmCells()
	old, _ = Read(writeBench(t, "old.txt", nil, nil, ho))
	new, _ = Read(writeBench(t, "new.txt", nil, nil, hn))
	d, err := Compare(old, new, CompareOptions{Threshold: DefaultThreshold})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(d.Regressions()); got != 0 {
		t.Errorf("BH flags %d of holmCells' one marginal change among four, want 0", got)
	}
	for name, want := range map[string]Correction{"bh": BenjaminiHochberg, "FDR": BenjaminiHochberg, "holm": Holm, "none": NoCorrection} {
		if got, err := ParseCorrection(name); got != want || err != nil {
			t.Errorf("ParseCorrection(%q) = %v, %v", name, got, err)
		}
	}
	if !strings.Contains(d.ruleText(), "Benjamini–Hochberg over 4") {
		t.Errorf("rule %q does not name the correction", d.ruleText())
	}
}

// A cell that fails only on the new side fails the gate; cells and units
// that one side lacks are listed in every format, never dropped.
func TestCompareMissingAndFailed(t *testing.T) {
	t.Parallel()
	cell := func(name string) synthCell {
		return synthCell{name, map[string][]float64{"ns/op": scaled(100, spread)}}
	}
	withTasks := func(name string) synthCell {
		return synthCell{name, map[string][]float64{"ns/op": scaled(100, spread), "tasks/s": scaled(1e7, spread)}}
	}
	oldPath := writeBench(t, "old.txt", nil, nil, []synthCell{cell("A/strategy=x-2"), cell("Gone/strategy=x-2"), withTasks("B/strategy=x-2")})
	newText := "goos: linux\ngoarch: amd64\ncpu: AMD EPYC\ncpu-features: avx2,avx512f\ngomaxprocs: 2\ngoexperiment: simd\n"
	for _, v := range scaled(100, interleaved) {
		newText += fmt.Sprintf("BenchmarkB/strategy=x-2\t1\t%g ns/op\nBenchmarkNew/strategy=x-2\t1\t%g ns/op\n", v, v)
	}
	newText += "--- FAIL: BenchmarkA/strategy=x-2\n    digest mismatch\n"
	old, _ := Read(oldPath)
	new, err := Decode(strings.NewReader(newText), "new.txt")
	if err != nil {
		t.Fatal(err)
	}
	d, err := Compare(old, new, CompareOptions{AllUnits: true, Threshold: DefaultThreshold})
	if err != nil {
		t.Fatal(err)
	}
	regs := d.Regressions()
	if len(regs) != 1 || regs[0].Name != "A/strategy=x-2" || regs[0].Verdict != Failed {
		t.Errorf("regressions %+v, want A failed in new", regs)
	}
	if !slices.Equal(d.OnlyOld, []string{"Gone/strategy=x-2"}) || !slices.Equal(d.OnlyNew, []string{"New/strategy=x-2"}) {
		t.Errorf("only old %q, only new %q", d.OnlyOld, d.OnlyNew)
	}
	if len(d.Unmeasured) != 1 || d.Unmeasured[0] != (Unmeasured{Unit: "tasks/s", Side: "new", Cells: 1}) {
		t.Errorf("unmeasured %+v, want tasks/s missing from new for one cell", d.Unmeasured)
	}
	for _, f := range []Format{Text, Markdown, CSV, JSON} {
		var b bytes.Buffer
		if err := WriteDiff(&b, d, f); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Gone/strategy=x-2", "New/strategy=x-2", "tasks/s", "A/strategy=x-2"} {
			if !strings.Contains(b.String(), want) {
				t.Errorf("%v output lacks %q:\n%s", f, want, b.String())
			}
		}
	}
}

// Calibrate says what the gate can detect at the pair's noise: the
// minimal detectable effect at the rounds it has, the rounds for 5 %.
func TestCalibrateDetectable(t *testing.T) {
	t.Parallel()
	oc, nc := spreadCells(4, 0)
	old, _ := Read(writeBench(t, "old.txt", nil, nil, oc))
	new, _ := Read(writeBench(t, "new.txt", nil, nil, nc))
	d, err := Compare(old, new, CompareOptions{Threshold: DefaultThreshold})
	if err != nil {
		t.Fatal(err)
	}
	cal := Calibrate(d)
	if cal.Level != 0.05/4 {
		t.Errorf("level %v, want α/4", cal.Level)
	}
	c := cal.Cells[0]
	cv := robustCV(c0(oc))
	if want := minDetectableEffect(8, 8, cv, 0.05/4); math.Abs(c.MinDetectable-want) > 1e-12 || c.MinDetectable <= 0 {
		t.Errorf("MinDetectable %v, want %v", c.MinDetectable, want)
	}
	if c.RoundsFor5 != roundsToDetect(0.05, cv, 0.05/4) || c.RoundsFor5 < 4 {
		t.Errorf("RoundsFor5 %d", c.RoundsFor5)
	}
	for _, f := range []Format{Text, CSV, JSON} {
		var b bytes.Buffer
		if err := WriteCalibration(&b, cal, f); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{percent(c.MinDetectable), strconv.Itoa(c.RoundsFor5)} {
			if f != Text {
				want = strconv.FormatFloat(c.MinDetectable, 'g', -1, 64)
			}
			if !strings.Contains(b.String(), want) {
				t.Errorf("%v calibration lacks %q:\n%s", f, want, b.String())
			}
		}
	}
}

// c0 returns the ns/op rounds of the first synthetic cell, in seconds.
func c0(cells []synthCell) []float64 {
	return scaled(1e-9, cells[0].values["ns/op"])
}

// The simulation slows each side of an A/A pair in turn and counts what
// the gate flags: the same figures every time, every cell for a
// slowdown far above the noise, none for one below the threshold, and no
// false regression in the pair itself.
func TestSimulate(t *testing.T) {
	t.Parallel()
	var oc, nc []synthCell
	for i := range 5 {
		name := fmt.Sprintf("Hash/size=%d/strategy=pool-2", i)
		oc = append(oc, synthCell{name, map[string][]float64{"ns/op": scaled(100, spread), "tasks/s": scaled(1e7, spread)}})
		nc = append(nc, synthCell{name, map[string][]float64{"ns/op": scaled(100, interleaved), "tasks/s": scaled(1e7, interleaved)}})
	}
	a, _ := Read(writeBench(t, "a.txt", nil, nil, oc))
	b, _ := Read(writeBench(t, "b.txt", nil, nil, nc))
	opts := CompareOptions{OldLabel: "a", NewLabel: "b", Threshold: DefaultThreshold, Units: []string{"sec/op", "tasks/s"}}
	sim, err := Simulate(a, b, []float64{0.02, 0.2}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sim.Cells != 10 || sim.FalseRegressions != 0 {
		t.Errorf("%d cells judged, %d false regressions; want 10 and 0", sim.Cells, sim.FalseRegressions)
	}
	if got := sim.Trials[1]; got.Judged != 20 || got.Flagged != 20 || got.Power() != 1 {
		t.Errorf("20%% slowdown: %+v, want all 20 flagged (sec/op and tasks/s, both ways)", got)
	}
	if got := sim.Trials[0]; got.Flagged != 0 || got.Significant == 0 {
		t.Errorf("2%% slowdown: %+v, want some significant but none beyond the 5%% threshold", got)
	}
	again, _ := Simulate(a, b, []float64{0.02, 0.2}, opts)
	if fmt.Sprint(again) != fmt.Sprint(sim) {
		t.Errorf("not deterministic:\n%+v\n%+v", sim, again)
	}
	// The sets themselves are untouched.
	if v := b.Rounds(b.Results[0]).Of(TimeUnit)[0]; v != 100*interleaved[0]*1e-9 {
		t.Errorf("b's first round changed to %v", v)
	}
	var out bytes.Buffer
	if err := WriteSimulation(&out, sim, Text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"│      20% │ 20 of 20 │  100% │", "0 false regressions of 20 cells judged"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("simulation output lacks %q:\n%s", want, out.String())
		}
	}
}
