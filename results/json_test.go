package results

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	set, err := Read(matrixPath)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, set, Options{AllUnits: true}); err != nil {
		t.Fatal(err)
	}
	var doc JSONResults
	dec := json.NewDecoder(&b)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != JSONSchema || doc.Version != 1 || doc.Machine["cpu"] != "AMD EPYC" || doc.Machine["gomaxprocs"] != "2" {
		t.Errorf("header: schema %q v%d, machine %v", doc.Schema, doc.Version, doc.Machine)
	}
	if doc.MaxCV == nil || *doc.MaxCV != DefaultMaxCV || doc.Baseline != "blocking" || doc.Alpha != 0.05 || doc.Confidence != 0.95 {
		t.Errorf("settings: max_cv %v, baseline %q, alpha %v, confidence %v", doc.MaxCV, doc.Baseline, doc.Alpha, doc.Confidence)
	}
	// 13 rows × 14 strategies, one of them failed.
	if len(doc.Cells) != 13*14 {
		t.Fatalf("%d cells, want %d", len(doc.Cells), 13*14)
	}
	tables := set.Tables(Options{Units: []string{TimeUnit}})
	want := tables[0].Cells[0][1] // Dot span=65536, threads
	var got *JSONCell
	failed, unstable, erring := 0, 0, 0
	for i, c := range doc.Cells {
		if c.Workload == "Dot" && c.Row == tables[0].Rows[0] && c.Strategy == "threads(max=256)" {
			got = &doc.Cells[i]
		}
		switch {
		case c.Status == "failed":
			failed++
			if !strings.Contains(c.Failure, "ConnectionRefusedError") || len(c.Results) != 0 {
				t.Errorf("failed cell %+v", c)
			}
		case c.Status != "ok":
			t.Errorf("cell %s status %q", c.Name, c.Status)
		}
		if c.Unstable {
			unstable++
		}
		if c.MaxErrors > 0 {
			erring++
		}
	}
	if failed != 1 || unstable != 4 || erring != 2 {
		t.Errorf("%d failed, %d unstable, %d with errors; want 1, 4, 2", failed, unstable, erring)
	}
	if got == nil {
		t.Fatal("no Dot threads cell")
	}
	r := got.Results[TimeUnit]
	if r.Median != want.Summary.Center || *r.Lo != want.Summary.Lo || *r.Hi != want.Summary.Hi || r.N != 6 ||
		r.VsBaseline == nil || *r.VsBaseline.Speedup >= 1 || !r.VsBaseline.Significant {
		t.Errorf("Dot threads sec/op: %+v (vs %+v), want %+v", r, r.VsBaseline, want.Summary)
	}
	if got.Name != "Dot/tasks=16384/size=4096/span=65536/strategy=threads(max=256)-2" || len(got.Results) < 15 {
		t.Errorf("cell name %q with %d units", got.Name, len(got.Results))
	}
	if doc.Units["tasks/s"].Better != "higher" || doc.Units[TimeUnit].Better != "lower" {
		t.Errorf("units %+v", doc.Units)
	}
	var web *JSONVerdict
	for i, v := range doc.Verdicts {
		if v.Workload == "Webrequest" {
			web = &doc.Verdicts[i]
		}
	}
	if web == nil || !web.TradeOff || web.Fastest.Strategy != "simd(batch=256,path=avx512)" || web.BestP99 == nil ||
		len(web.Excluded) != 1 || len(web.Lines) != 3 {
		t.Errorf("Webrequest verdict %+v", web)
	}
	if len(doc.Unstable) != 4 || doc.Unstable[0].Cure == "" || len(doc.Failures) != 1 {
		t.Errorf("%d unstable, %d failures", len(doc.Unstable), len(doc.Failures))
	}
}

// docs/json.md documents every field of the document.
func TestJSONSchemaIsDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/json.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("docs/json.md does not document %s's field `%s`", typ.Name(), name)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[JSONResults]())
	if !strings.Contains(string(doc), `"version": 1`) {
		t.Error("docs/json.md does not show version 1")
	}
}
