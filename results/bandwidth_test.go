package results

import (
	"bytes"
	"math"
	"strings"
	"testing"
)

func TestBandwidth(t *testing.T) {
	t.Parallel()
	strategies := []string{"blocking", "simd"}
	gbs := func(blocking, simd float64) func(s, r int) float64 {
		return func(s, r int) float64 { return []float64{blocking, simd}[s]*1e9 + float64(r) }
	}
	tests := []struct {
		name     string
		input    string
		wantNil  bool
		peak     float64 // GB/s
		peakCell string
		rows     []string
		fraction map[string][2]float64 // row → fraction by column (NaN: no value)
	}{
		{
			name: "peak from the fastest stream cell, dot as a fraction of it",
			input: rounds("Stream/op=sum", strategies, 3, "B/s", gbs(4, 50)) +
				rounds("Stream/op=triad", strategies, 3, "B/s", gbs(8, 40)) +
				rounds("Dot/span=33554432", strategies, 3, "B/s", gbs(10, 45)),
			peak:     50,
			peakCell: "Stream op=sum-2 · simd",
			rows:     []string{"Stream op=sum-2", "Stream op=triad-2", "Dot span=33554432-2"},
			fraction: map[string][2]float64{
				"Stream op=sum-2":     {0.08, 1},
				"Dot span=33554432-2": {0.2, 0.9},
			},
		},
		{
			name:  "no stream cell: rates without a fraction",
			input: rounds("Dot/span=65536", strategies, 3, "B/s", gbs(10, 200)),
			rows:  []string{"Dot span=65536-2"},
			fraction: map[string][2]float64{
				"Dot span=65536-2": {math.NaN(), math.NaN()},
			},
		},
		{
			name: "a failed cell has no value and sets no peak",
			input: rounds("Stream/op=sum", []string{"blocking"}, 3, "B/s", gbs(4, 0)) +
				"--- FAIL: BenchmarkStream/op=sum/strategy=simd-2\n    digest mismatch\n",
			peak:     4,
			peakCell: "Stream op=sum-2 · blocking",
			rows:     []string{"Stream op=sum-2"},
		},
		{
			name:    "no B/s anywhere",
			input:   rounds("Mandelbrot", strategies, 3, "ns/op", func(s, r int) float64 { return 1 }),
			wantNil: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := Decode(strings.NewReader(tt.input), "test")
			if err != nil {
				t.Fatal(err)
			}
			b := set.Bandwidth(Options{})
			if tt.wantNil {
				if b != nil {
					t.Fatalf("Bandwidth = %+v, want nil", b)
				}
				return
			}
			if b == nil {
				t.Fatal("Bandwidth = nil")
			}
			if math.Abs(b.Peak/1e9-tt.peak) > 0.01 || b.PeakCell != tt.peakCell {
				t.Errorf("peak %g GB/s in %q, want %g in %q", b.Peak/1e9, b.PeakCell, tt.peak, tt.peakCell)
			}
			var rows []string
			for _, r := range b.Rows {
				rows = append(rows, r.Label)
				want, ok := tt.fraction[r.Label]
				if !ok {
					continue
				}
				for j, v := range r.Median {
					f, has := b.Fraction(v)
					if math.IsNaN(want[j]) {
						if has {
							t.Errorf("%s %s: fraction %g, want none", r.Label, b.Columns[j], f)
						}
						continue
					}
					if !has || math.Abs(f-want[j]) > 0.001 {
						t.Errorf("%s %s: fraction %g (%v), want %g", r.Label, b.Columns[j], f, has, want[j])
					}
				}
			}
			if strings.Join(rows, "|") != strings.Join(tt.rows, "|") {
				t.Errorf("rows %q, want %q", rows, tt.rows)
			}
		})
	}
}

func TestBandwidthInTables(t *testing.T) {
	t.Parallel()
	input := rounds("Stream/op=sum", []string{"blocking", "simd"}, 3, "B/s",
		func(s, r int) float64 { return []float64{5e9, 50e9}[s] }) +
		rounds("Dot/span=33554432", []string{"blocking", "simd"}, 3, "B/s",
			func(s, r int) float64 { return []float64{10e9, 45e9}[s] })
	set, err := Decode(strings.NewReader(input), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []Format{Text, Markdown} {
		var out bytes.Buffer
		if err := WriteTables(&out, set, Options{Format: f}); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"Memory bandwidth", "Stream op=sum-2 · simd: 50.0 GB/s", "45.0 GB/s (90%)", "5.0 GB/s (10%)"} {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v output lacks %q:\n%s", f, want, out.String())
			}
		}
	}
	header, body := set.Bandwidth(Options{}).Grid()
	if got := strings.Join(header, "|"); got != "workload|blocking|simd" {
		t.Errorf("bandwidth header %q", got)
	}
	if len(body) != 2 || strings.Join(body[1], "|") != "Dot span=33554432-2|10.0 GB/s (20%)|45.0 GB/s (90%)" {
		t.Errorf("bandwidth rows %q", body)
	}
}
