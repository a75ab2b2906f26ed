package results

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
)

// JSONSchema and JSONSchemaVersion identify the document that WriteJSON
// writes; docs/json.md describes every field. The version grows when a
// field changes meaning or goes away, never when one is added, so
// readers should ignore fields they do not know.
const (
	JSONSchema        = "concbench.results"
	JSONSchemaVersion = 1
)

// JSONResults is the document that WriteJSON writes: per-cell results
// (median, interval, rounds, noise, comparison with the baseline, for
// each unit), the verdicts per workload, the unstable and failed cells,
// and the machine they were measured on.
type JSONResults struct {
	Schema  string `json:"schema"`
	Version int    `json:"version"`

	// Machine holds the file configuration keys (goos, goarch, cpu,
	// cpu-features, gomaxprocs, go, goexperiment, commit, kernel, ...)
	// that every result shares; MachineVaries those that differ between
	// results, with each value met.
	Machine       map[string]string   `json:"machine"`
	MachineVaries map[string][]string `json:"machine_varies,omitempty"`

	// Baseline is the strategy compared against; Confidence the level of
	// the intervals; Alpha the significance level; MaxCV the noise limit
	// above which a cell is unstable (null when marking is off).
	Baseline   string   `json:"baseline"`
	Confidence float64  `json:"confidence"`
	Alpha      float64  `json:"alpha"`
	MaxCV      *float64 `json:"max_cv"`

	Verdicts []JSONVerdict       `json:"verdicts"`
	Cells    []JSONCell          `json:"cells"`
	Unstable []JSONUnstable      `json:"unstable"`
	Failures []JSONFailure       `json:"failures"`
	Warnings []string            `json:"warnings,omitempty"`
	Units    map[string]JSONUnit `json:"units"`
}

// JSONUnit describes one unit of the document: its direction.
type JSONUnit struct {
	Better string `json:"better"` // "lower", "higher" or "neutral"
}

// JSONCell is one cell: a strategy on one row of a workload.
type JSONCell struct {
	Workload string `json:"workload"`
	Row      string `json:"row"`
	Strategy string `json:"strategy"`
	// Name is the full benchmark name, without "Benchmark".
	Name string `json:"name"`
	// Status is "ok" or "failed"; Failure the reason of a failed cell.
	Status  string `json:"status"`
	Failure string `json:"failure,omitempty"`
	// CV is the noise of the rounds' time per task; Unstable whether it
	// is above max_cv; MaxErrors the largest errors/op of a round.
	CV        float64 `json:"cv"`
	Unstable  bool    `json:"unstable"`
	MaxErrors float64 `json:"max_errors"`
	// Results holds one summary per unit measured.
	Results map[string]JSONSummary `json:"results"`
}

// JSONSummary is a cell's figure in one unit.
type JSONSummary struct {
	// Median is the median of the N rounds, with its confidence
	// interval [Lo, Hi] (null where N is too small for one).
	Median float64  `json:"median"`
	Lo     *float64 `json:"lo"`
	Hi     *float64 `json:"hi"`
	N      int      `json:"n"`
	// VsBaseline compares the cell with the baseline strategy on the
	// same row; absent for the baseline itself and where it is missing.
	VsBaseline *JSONComparison `json:"vs_baseline,omitempty"`
}

// JSONComparison is benchstat's comparison of a cell with its baseline.
type JSONComparison struct {
	// Speedup is how many times better than the baseline, in the unit's
	// direction (absent for units without one); Ratio is
	// median/baseline median.
	Speedup *float64 `json:"speedup,omitempty"`
	Ratio   *float64 `json:"ratio,omitempty"`
	// P is the Mann-Whitney U test's p-value; Significant whether it is
	// at most alpha.
	P           float64 `json:"p"`
	Significant bool    `json:"significant"`
}

// JSONVerdict is a WorkloadVerdict: the fastest strategy, the one with
// the best p99, whether they differ, who was left out, and the lines the
// text output prints.
type JSONVerdict struct {
	Workload string        `json:"workload"`
	Fastest  *JSONWinner   `json:"fastest"`
	BestP99  *JSONWinner   `json:"best_p99"`
	TradeOff bool          `json:"trade_off"`
	Excluded []JSONExclude `json:"excluded"`
	Lines    []string      `json:"lines"`
}

// JSONWinner is a Winner.
type JSONWinner struct {
	Strategy string   `json:"strategy"`
	Unit     string   `json:"unit"`
	Geomean  float64  `json:"geomean"`
	Speedup  *float64 `json:"speedup,omitempty"`
	Baseline string   `json:"baseline"`
	Rows     int      `json:"rows"`
}

// JSONExclude is an Exclusion.
type JSONExclude struct {
	Strategy string `json:"strategy"`
	Reason   string `json:"reason"`
}

// JSONUnstable is an UnstableCell.
type JSONUnstable struct {
	Workload   string   `json:"workload"`
	Row        string   `json:"row"`
	Strategy   string   `json:"strategy"`
	CV         float64  `json:"cv"`
	Rounds     int      `json:"rounds"`
	Cause      string   `json:"cause"`
	Detail     string   `json:"detail"`
	Why        string   `json:"why"`
	Cure       string   `json:"cure"`
	RoundTime  *float64 `json:"round_seconds"`
	RoundsFor5 *int     `json:"rounds_to_detect_5pct"`
}

// JSONFailure is a Failure.
type JSONFailure struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// WriteJSON writes set as one indented JSON document (JSONResults), the
// units that opts selects in each cell's results.
func WriteJSON(w io.Writer, set *Set, opts Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(set.JSON(opts)); err != nil {
		return fmt.Errorf("results: write json: %w", err)
	}
	return nil
}

// JSON builds the document that WriteJSON writes.
func (s *Set) JSON(opts Options) *JSONResults {
	doc := &JSONResults{Schema: JSONSchema, Version: JSONSchemaVersion, Baseline: opts.baseline(),
		Confidence: confidence(opts.Confidence), Alpha: alpha(opts.Alpha),
		Verdicts: []JSONVerdict{}, Cells: []JSONCell{}, Unstable: []JSONUnstable{}, Failures: []JSONFailure{},
		Warnings: s.Warnings, Units: map[string]JSONUnit{}}
	if limit := opts.maxCV(); !math.IsInf(limit, 0) {
		doc.MaxCV = &limit
	}
	doc.Machine, doc.MachineVaries = s.machine()

	type key struct{ workload, row, strategy string }
	index := map[key]int{}
	for _, t := range s.Tables(opts) {
		doc.Units[t.Unit] = JSONUnit{Better: t.Better.word()}
		for i, row := range t.Rows {
			for j, c := range t.Cells[i] {
				if c == nil {
					continue
				}
				k := key{t.Workload, row, t.Columns[j]}
				n, ok := index[k]
				if !ok {
					n = len(doc.Cells)
					index[k] = n
					jc := JSONCell{Workload: t.Workload, Row: row, Strategy: t.Columns[j], Status: "ok",
						CV: c.CV, Unstable: c.Unstable, MaxErrors: c.MaxErrors, Results: map[string]JSONSummary{}}
					if v := t.rounds[i][j]; v != nil {
						jc.Name = v.name
					}
					if c.Failed() {
						jc.Status, jc.Failure, jc.Name = "failed", c.Failure.Reason, c.Failure.Name
					}
					doc.Cells = append(doc.Cells, jc)
				}
				if c.Failed() || c.Sample == nil {
					continue
				}
				doc.Cells[n].Results[t.Unit] = t.jsonSummary(c, doc.Alpha)
			}
		}
	}
	for _, v := range s.Verdicts(opts) {
		doc.Verdicts = append(doc.Verdicts, jsonVerdict(v))
	}
	for _, u := range s.UnstableCells(opts) {
		ju := JSONUnstable{Workload: u.Workload, Row: u.Row, Strategy: u.Strategy, CV: u.CV, Rounds: u.Rounds,
			Cause: u.Cause.String(), Detail: u.Detail, Why: u.Cause.Why(), Cure: u.Cause.Cure()}
		if u.RoundTime > 0 {
			ju.RoundTime = &u.RoundTime
		}
		if u.RoundsFor5 > 0 {
			ju.RoundsFor5 = &u.RoundsFor5
		}
		doc.Unstable = append(doc.Unstable, ju)
	}
	for _, f := range s.Failures {
		doc.Failures = append(doc.Failures, JSONFailure{Name: f.Name, Reason: f.Reason})
	}
	return doc
}

func (t *Table) jsonSummary(c *Cell, alpha float64) JSONSummary {
	js := JSONSummary{Median: c.Summary.Center, Lo: finite(c.Summary.Lo), Hi: finite(c.Summary.Hi), N: len(c.Sample.Values)}
	if c.Baseline != nil {
		cmp := &JSONComparison{P: c.Comparison.P, Significant: c.Comparison.P <= alpha}
		if math.IsNaN(cmp.P) {
			cmp.P, cmp.Significant = 1, false
		}
		if sp, ok := t.Speedup(c); ok {
			cmp.Speedup = &sp
		}
		if b := c.Baseline.Summary.Center; b != 0 {
			cmp.Ratio = finite(c.Summary.Center / b)
		}
		js.VsBaseline = cmp
	}
	return js
}

func jsonWinner(w *Winner) *JSONWinner {
	if w == nil {
		return nil
	}
	jw := &JSONWinner{Strategy: w.Strategy, Unit: w.Unit, Geomean: w.Center, Baseline: w.Baseline, Rows: w.Rows}
	if w.HasSpeedup {
		jw.Speedup = &w.Speedup
	}
	return jw
}

// finite returns a pointer to x, or nil for NaN and infinities, which
// JSON cannot hold.
func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// word is the direction as docs/json.md spells it.
func (d Direction) word() string {
	switch d {
	case LowerIsBetter:
		return "lower"
	case HigherIsBetter:
		return "higher"
	}
	return "neutral"
}

// machine returns the file configuration keys every result shares, and
// the values of those that vary.
func (s *Set) machine() (map[string]string, map[string][]string) {
	values := map[string]map[string]bool{}
	for _, r := range s.Results {
		for _, c := range r.Config {
			if !c.File {
				continue
			}
			if values[c.Key] == nil {
				values[c.Key] = map[string]bool{}
			}
			values[c.Key][string(c.Value)] = true
		}
	}
	same, varies := map[string]string{}, map[string][]string{}
	for k, vs := range values {
		list := make([]string, 0, len(vs))
		for v := range vs {
			list = append(list, v)
		}
		sort.Strings(list)
		// A key missing from some results varies too.
		missing := false
		for _, r := range s.Results {
			if _, ok := r.ConfigIndex(k); !ok {
				missing = true
				break
			}
		}
		if len(list) == 1 && !missing {
			same[k] = list[0]
		} else {
			if missing {
				list = slices.Insert(list, 0, "")
			}
			varies[k] = list
		}
	}
	if len(varies) == 0 {
		varies = nil
	}
	return same, varies
}

// jsonVerdict is v as the JSON documents write it.
func jsonVerdict(v WorkloadVerdict) JSONVerdict {
	jv := JSONVerdict{Workload: v.Workload, Fastest: jsonWinner(v.Fastest), BestP99: jsonWinner(v.BestP99),
		TradeOff: v.TradeOff(), Excluded: []JSONExclude{}, Lines: v.Lines()}
	for _, e := range v.Excluded {
		jv.Excluded = append(jv.Excluded, JSONExclude(e))
	}
	return jv
}
