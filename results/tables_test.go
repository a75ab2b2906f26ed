package results

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// rounds writes n rounds of a benchmark line per strategy, with values
// from value(strategy, round), one unit.
func rounds(name string, strategies []string, n int, unit string, value func(s, r int) float64) string {
	var b strings.Builder
	for r := range n {
		for s, strategy := range strategies {
			fmt.Fprintf(&b, "Benchmark%s/strategy=%s-2 100 %g %s\n", name, strategy, value(s, r), unit)
		}
	}
	return b.String()
}

func TestStrategyColumns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		input    string
		opts     Options
		wantCols []string
		wantRows []string
	}{
		{
			"params folded into parens, blocking moved first",
			rounds("Hash/size=64", []string{"pool(workers=8)", "blocking", "reactor(loops=1,offload=on)"}, 2, "ns/op",
				func(s, r int) float64 { return float64(100 + s + r) }),
			Options{},
			[]string{"blocking", "pool(workers=8)", "reactor(loops=1,offload=on)"},
			[]string{"size=64-2"},
		},
		{
			"no blocking: first column is the baseline",
			rounds("Noop", []string{"threads", "goroutines"}, 2, "ns/op", func(s, r int) float64 { return 5 }),
			Options{},
			[]string{"threads", "goroutines"},
			[]string{"Noop-2"},
		},
		{
			"named baseline",
			rounds("Noop", []string{"threads", "goroutines"}, 2, "ns/op", func(s, r int) float64 { return 5 }),
			Options{Baseline: "goroutines"},
			[]string{"goroutines", "threads"},
			[]string{"Noop-2"},
		},
		{
			"rows in first-seen order, as benchstat",
			rounds("Dot/n=1000", []string{"blocking"}, 1, "ns/op", func(int, int) float64 { return 1 }) +
				rounds("Dot/n=20", []string{"blocking"}, 1, "ns/op", func(int, int) float64 { return 1 }),
			Options{},
			[]string{"blocking"},
			[]string{"n=1000-2", "n=20-2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tables := decode(t, tt.input).Tables(tt.opts)
			if len(tables) != 1 {
				t.Fatalf("got %d tables, want 1", len(tables))
			}
			if got := tables[0].Columns; !slices.Equal(got, tt.wantCols) {
				t.Errorf("columns %q, want %q", got, tt.wantCols)
			}
			if got := tables[0].Rows; !slices.Equal(got, tt.wantRows) {
				t.Errorf("rows %q, want %q", got, tt.wantRows)
			}
		})
	}
}

func TestBetter(t *testing.T) {
	t.Parallel()
	header := "Unit tasks/s Better=higher\nUnit widgets better=higher\nUnit B/op better=higher\n"
	set := decode(t, header+"BenchmarkNoop/strategy=blocking-2 1 1 ns/op\n")
	tests := []struct {
		unit string
		want Direction
	}{
		{"tasks/s", HigherIsBetter}, // capitalized key, as the harness writes it
		{"widgets", HigherIsBetter},
		{"B/op", HigherIsBetter}, // declared metadata beats the default
		{"sec/op", LowerIsBetter},
		{"p99-sec/op", LowerIsBetter},
		{"%bound", HigherIsBetter},
		{"errors/op", LowerIsBetter},
		{"faults/op", LowerIsBetter},
		{"ctxsw/op", LowerIsBetter},
		{"allocs/op", LowerIsBetter},
		{"peak-goroutines", Neutral},
	}
	for _, tt := range tests {
		if got := set.Better(tt.unit); got != tt.want {
			t.Errorf("Better(%q) = %v, want %v", tt.unit, got, tt.want)
		}
	}
}

func TestSpeedup(t *testing.T) {
	t.Parallel()
	// blocking takes twice as long as pool, so pool does twice the tasks/s.
	input := "Unit tasks/s better=higher\n" +
		rounds("Noop", []string{"blocking", "pool"}, 6, "ns/op", func(s, r int) float64 { return float64(200/(s+1) + r) }) +
		rounds("Noop", []string{"blocking", "pool"}, 6, "tasks/s", func(s, r int) float64 { return float64((100 + r) * (s + 1)) }) +
		rounds("Noop", []string{"blocking", "pool"}, 6, "peak-threads", func(s, r int) float64 { return float64(3 + s) })
	tables := decode(t, input).Tables(Options{AllUnits: true})
	want := map[string]string{"sec/op": "1.98×", "tasks/s": "2.00×", "peak-threads": ""}
	for _, tab := range tables {
		got := ""
		if s, ok := tab.Speedup(tab.Cells[0][1]); ok {
			got = speedupText(s)
		}
		if got != want[tab.Unit] {
			t.Errorf("%s: speedup %q, want %q", tab.Unit, got, want[tab.Unit])
		}
		if _, ok := tab.Speedup(tab.Cells[0][0]); ok {
			t.Errorf("%s: the baseline has a speedup", tab.Unit)
		}
	}
	if len(tables) != 3 {
		t.Fatalf("got %d tables, want 3", len(tables))
	}
}

func TestSingleSample(t *testing.T) {
	t.Parallel()
	set := decode(t, rounds("Noop", []string{"blocking", "pool"}, 1, "ns/op", func(s, r int) float64 { return float64(10 + s) }))
	tab := set.Tables(Options{})[0]
	c := tab.Cells[0][1]
	if got := c.Summary.PctRangeString(); got != "∞" {
		t.Errorf("interval %q, want ∞", got)
	}
	if got := tab.comparisonText(c); got != "0.91× ~ (p=1.000 n=1)" {
		t.Errorf("comparison %q", got)
	}
	if !strings.Contains(fmt.Sprint(c.Warnings), "need >= 6 samples") {
		t.Errorf("warnings %v lack the sample count", c.Warnings)
	}
	var b bytes.Buffer
	if err := WriteTables(&b, set, Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "10.00n ± ∞ ¹") {
		t.Errorf("missing single-sample cell in:\n%s", b.String())
	}
}

func TestMissingAndFailedCells(t *testing.T) {
	t.Parallel()
	input := rounds("Dot/n=8", []string{"blocking", "simd", "pool"}, 6, "ns/op", func(s, r int) float64 { return float64(100/(s+1) + r) }) +
		rounds("Dot/n=16", []string{"blocking", "pool"}, 6, "ns/op", func(s, r int) float64 { return float64(200/(s+1) + r) }) +
		"--- FAIL: BenchmarkDot/n=16/strategy=simd-2\n    digest mismatch\n" +
		"--- FAIL: BenchmarkWeb/strategy=blocking-2\n    backend refused\n"
	set := decode(t, input)
	tables := set.Tables(Options{})
	if len(tables) != 2 {
		t.Fatalf("got %d tables, want Dot and Web", len(tables))
	}
	dot, web := tables[0], tables[1]
	if !slices.Equal(dot.Columns, []string{"blocking", "simd", "pool"}) || !slices.Equal(dot.Rows, []string{"n=8-2", "n=16-2"}) {
		t.Fatalf("dot table %q × %q", dot.Rows, dot.Columns)
	}
	if c := dot.Cells[1][1]; c == nil || !c.Failed() || c.Failure.Reason != "digest mismatch" {
		t.Errorf("n=16 simd = %+v, want failed", c)
	}
	if !dot.Geomean[1].HasCenter || len(dot.Geomean[1].Warnings) == 0 {
		t.Errorf("simd geomean %+v: want a center over n=8 and a warning", dot.Geomean[1])
	}
	if !web.Cells[0][0].Failed() || web.Unit != "sec/op" {
		t.Errorf("web table %+v: want one failed sec/op cell", web)
	}
	wins := Winners(tables)
	if len(wins) != 1 || wins[0].Strategy != "pool" {
		t.Errorf("winners %+v: want pool (simd failed a row)", wins)
	}

	for _, f := range []Format{Text, ASCII, Markdown, CSV} {
		var b bytes.Buffer
		if err := WriteTables(&b, set, Options{Format: f}); err != nil {
			t.Fatalf("%v: %v", f, err)
		}
		out := b.String()
		if f == CSV {
			recs, err := csv.NewReader(&b).ReadAll()
			if err != nil || len(recs) != 1+6+1 || !slices.Contains(recs[len(recs)-1], "failed") {
				t.Errorf("csv: %v\n%s", err, out)
			}
			continue
		}
		if strings.Count(out, failedText) != 2 || !strings.Contains(out, "backend refused") {
			t.Errorf("%v output lacks the failures:\n%s", f, out)
		}
		if f == ASCII && strings.ContainsAny(out, "│─┌") {
			t.Errorf("ascii output has box drawing:\n%s", out)
		}
	}
}

func TestSelectUnits(t *testing.T) {
	t.Parallel()
	measured := []string{"sec/op", "peak-threads", "tasks/s", "B/op"}
	tests := []struct {
		name   string
		wanted []string
		all    bool
		want   []string
	}{
		{"defaults in default order", DefaultUnits(), false, []string{"sec/op", "tasks/s", "B/op"}},
		{"all in measured order", []string{"B/op"}, true, measured},
		{"explicit, untidied, duplicates and unknowns", []string{"B/op", "ns/op", "sec/op", "nope"}, false, []string{"B/op", "sec/op"}},
		{"nothing wanted", nil, false, nil},
	}
	// Compare selects from both sides' units, which repeat.
	if got := selectUnits(append(measured, "sec/op", "B/op", "p99-sec/op"), nil, true); !slices.Equal(got,
		[]string{"sec/op", "peak-threads", "tasks/s", "B/op", "p99-sec/op"}) {
		t.Errorf("all units of two sides: got %q", got)
	}
	for _, tt := range tests {
		if got := selectUnits(measured, tt.wanted, tt.all); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	t.Parallel()
	for _, f := range []Format{Text, ASCII, Markdown, CSV} {
		if got, err := ParseFormat(f.String()); got != f || err != nil {
			t.Errorf("ParseFormat(%q) = %v, %v", f.String(), got, err)
		}
	}
	if got, _ := ParseFormat("MD"); got != Markdown {
		t.Errorf("ParseFormat(MD) = %v", got)
	}
	if _, err := ParseFormat("html"); err == nil {
		t.Error("ParseFormat(html) succeeded")
	}
	if got, err := ParseFormat("json"); got != JSON || err != nil {
		t.Errorf("ParseFormat(json) = %v, %v: report --format json needs it", got, err)
	}
	if _, err := ParseFormat("yaml"); err == nil || !strings.Contains(err.Error(), "want text, ascii, markdown, csv or json") {
		t.Errorf("ParseFormat(yaml): %v, want an error naming the formats", err)
	}
	for _, f := range []Format{Text, ASCII, Markdown, CSV, JSON} {
		if got, err := ParseDiffFormat(f.String()); got != f || err != nil {
			t.Errorf("ParseDiffFormat(%q) = %v, %v", f.String(), got, err)
		}
	}
}

// JSON was declared as CSV + 1 outside formatNames: JSON.String() printed
// "Format(4)", and WriteTables wrote text tables when asked for JSON. Now
// WriteTables writes JSON as WriteJSON does, and refuses what it cannot
// write, writing nothing.
func TestWriteTablesFormats(t *testing.T) {
	t.Parallel()
	if got := JSON.String(); got != "json" {
		t.Errorf("JSON.String() = %q, want json", got)
	}
	set, err := Decode(strings.NewReader(rounds("Hash", []string{"blocking", "pool"}, 2, "ns/op",
		func(s, r int) float64 { return float64(100 + s + r) })), "test")
	if err != nil {
		t.Fatal(err)
	}
	var out, direct bytes.Buffer
	if err := WriteTables(&out, set, Options{Format: JSON}); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&direct, set, Options{}); err != nil {
		t.Fatal(err)
	}
	if out.String() != direct.String() || !strings.Contains(out.String(), `"schema": "concbench.results"`) {
		t.Errorf("WriteTables(json) wrote:\n%s\nWriteJSON:\n%s", out.String(), direct.String())
	}
	out.Reset()
	err = WriteTables(&out, set, Options{Format: Format(42)})
	if err == nil || !strings.Contains(err.Error(), "cannot be written as Format(42)") {
		t.Errorf("WriteTables(Format(42)): error %v, want one that says it cannot write it", err)
	}
	if out.Len() > 0 {
		t.Errorf("WriteTables(Format(42)) wrote:\n%s", out.String())
	}
}

func TestCompactTables(t *testing.T) {
	t.Parallel()
	// pool has two labels (a sweep): they stay in full. reactor's one
	// label is shortened. reactor's rounds equal blocking's: not significant.
	input := rounds("Hash/size=64",
		[]string{"blocking", "pool(workers=2)", "pool(workers=8)", "reactor(loops=1,offload=off)"}, 6, "ns/op",
		func(s, r int) float64 { return []float64{100, 50, 25, 100}[s] + float64(r) })
	set, err := Decode(strings.NewReader(input), "test")
	if err != nil {
		t.Fatal(err)
	}
	var compact, wide, md bytes.Buffer
	if err := WriteTables(&compact, set, Options{Compact: true}); err != nil {
		t.Fatal(err)
	}
	if err := WriteTables(&wide, set, Options{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteTables(&md, set, Options{Compact: true, Format: Markdown}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		" reactor │", "reactor = reactor(loops=1,offload=off)", // short header and its legend
		"pool(workers=2)", "pool(workers=8)", // a sweep keeps its labels
		"│       3.73× │", "1.00× ~", // speedups alone, "~" where not significant
		"Hash: pool(workers=8) is fastest, 3.73× vs blocking",
	} {
		if !strings.Contains(compact.String(), want) {
			t.Errorf("compact output lacks %q:\n%s", want, compact.String())
		}
	}
	for _, unwanted := range []string{"(p=", "n=6", "-73."} { // benchstat's p-value, counts, delta
		if strings.Contains(compact.String(), unwanted) {
			t.Errorf("compact output contains %q:\n%s", unwanted, compact.String())
		}
	}
	for name, out := range map[string]string{"wide": wide.String(), "markdown": md.String()} {
		if !strings.Contains(out, "reactor(loops=1,offload=off)") || !strings.Contains(out, "(p=") || strings.Contains(out, "Strategies (full labels") {
			t.Errorf("%s output is not in full:\n%s", name, out)
		}
	}
}
