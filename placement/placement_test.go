package placement

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func set(cpus ...int) CPUSet {
	var s CPUSet
	for _, c := range cpus {
		s.Add(c)
	}
	return s
}

func TestParseCPUList(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, want string // want: the canonical String
		count    int
	}{
		{"", "", 0},
		{"0", "0", 1},
		{"3,1,2", "1-3", 3},
		{"0-3,6", "0-3,6", 5},
		{"5,5,4-6", "4-6", 3},
		{"0,2,4", "0,2,4", 3},
		{"1023", "1023", 1},
		{"60-70", "60-70", 11}, // across a word of the mask
		{"0-1023", "0-1023", 1024},
	} {
		s, err := ParseCPUList(tt.in)
		if err != nil || s.String() != tt.want || s.Count() != tt.count {
			t.Errorf("ParseCPUList(%q) = %q (%d CPUs), %v; want %q (%d)", tt.in, s, s.Count(), err, tt.want, tt.count)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"1024", "over 1023"},
		{"99999999999999999999", "over 1023"},
		{"3-1", "runs backwards"},
		{"-1", "empty CPU number"},
		{"1-", "empty CPU number"},
		{"1,,2", "empty CPU number"},
		{"+1", "not a CPU number"},
		{" 1", "not a CPU number"},
		{"1-2-3", "not a CPU number"},
		{"a", "not a CPU number"},
	} {
		s, err := ParseCPUList(tt.in)
		if !errors.Is(err, ErrBadCPUList) || !strings.Contains(err.Error(), tt.want) || !s.IsEmpty() {
			t.Errorf("ParseCPUList(%q) = %q, %v; want ErrBadCPUList with %q", tt.in, s, err, tt.want)
		}
	}
}

func TestCPUSetOperations(t *testing.T) {
	t.Parallel()
	a, b := set(0, 1, 64, 1023), set(1, 64)
	if got := a.Minus(b); got != set(0, 1023) {
		t.Errorf("Minus = %s", got)
	}
	if !a.Has(1023) || a.Has(2) || a.Has(-1) || a.Has(1024) {
		t.Error("Has is wrong at the edges")
	}
	if got := a.CPUs(); len(got) != 4 || got[0] != 0 || got[3] != 1023 {
		t.Errorf("CPUs = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("Add(1024) did not panic")
		}
	}()
	a.Add(MaxCPU + 1)
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, want string
	}{
		{"", "none"},
		{"none", "none"},
		{"  none ", "none"},
		{"strategy=0", "strategy=0"},
		{"strategy=0,backend=1,loadgen=1", "strategy=0 backend=1 loadgen=1"},
		{"backend=1,strategy=0", "strategy=0 backend=1"},
		{"strategy=0,2,backend=1,3", "strategy=0,2 backend=1,3"},
		{"strategy=0-3,6 backend=4-5", "strategy=0-3,6 backend=4-5"},
		{"strategy=0 backend=1 loadgen=1", "strategy=0 backend=1 loadgen=1"},
		{"loadgen=7,6,5", "loadgen=5-7"},
		{"strategy=1,1", "strategy=1"},
	} {
		p, err := Parse(tt.in)
		if err != nil || p.String() != tt.want {
			t.Errorf("Parse(%q) = %q, %v; want %q", tt.in, p, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"0,1", `CPUs "0" before any ROLE=`},
		{"server=0", `unknown role "server" (roles: strategy, backend, loadgen)`},
		{"=0", `unknown role ""`},
		{"strategy=0,strategy=1", "strategy is placed twice"},
		{"strategy=", "strategy= names no CPUs"},
		{"strategy=0,", "strategy: empty CPU number"},
		{"strategy=0,,backend=1", "strategy: empty CPU number"},
		{"strategy=1-0", "strategy: range 1-0 runs backwards"},
		{"backend=2048", "backend: CPU 2048 is over 1023"},
		{"strategy=0;backend=1", `strategy: "0;backend=1" is not a CPU number`},
		{"strategy=x", `"x" is not a CPU number`},
		{"Strategy=0", `unknown role "Strategy"`},
	} {
		p, err := Parse(tt.in)
		if !errors.Is(err, ErrBadPlacement) || !strings.Contains(err.Error(), tt.want) || !p.IsZero() {
			t.Errorf("Parse(%q) = %q, %v; want ErrBadPlacement with %q", tt.in, p, err, tt.want)
		}
		if err != nil && !strings.Contains(err.Error(), "want e.g. strategy=0,backend=1") {
			t.Errorf("Parse(%q): %v; the error gives no example", tt.in, err)
		}
	}
}

func TestPlacementAccessors(t *testing.T) {
	t.Parallel()
	p, err := Parse("strategy=0,backend=1-2")
	if err != nil {
		t.Fatal(err)
	}
	if p.CPUs(Strategy) != set(0) || p.CPUs(Backend) != set(1, 2) || !p.CPUs(Loadgen).IsEmpty() {
		t.Errorf("CPUs of %s: %s, %s, %s", p, p.CPUs(Strategy), p.CPUs(Backend), p.CPUs(Loadgen))
	}
	if p.All() != set(0, 1, 2) {
		t.Errorf("All = %s", p.All())
	}
	q := p.With(Loadgen, set(2)).With(Backend, CPUSet{})
	if q.String() != "strategy=0 loadgen=2" || p.String() != "strategy=0 backend=1-2" {
		t.Errorf("With: %q (and p became %q)", q, p)
	}
	if p == q || p.IsZero() || !(Placement{}).IsZero() {
		t.Error("== or IsZero is wrong")
	}
	if Role(7).String() != "Role(7)" || Loadgen.String() != "loadgen" {
		t.Errorf("Role.String: %s, %s", Role(7), Loadgen)
	}
}

// A placement is a JSON string, as meta.json records it, and reads back
// equal; the zero placement is "none".
func TestPlacementJSON(t *testing.T) {
	t.Parallel()
	type meta struct {
		Placement Placement `json:"placement"`
	}
	for _, in := range []string{"none", "strategy=0 backend=1", "strategy=0-3,8 backend=4-7 loadgen=4"} {
		p, err := Parse(in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(meta{p})
		if err != nil || string(b) != `{"placement":"`+in+`"}` {
			t.Fatalf("Marshal %q: %s, %v", in, b, err)
		}
		var back meta
		if err := json.Unmarshal(b, &back); err != nil || back.Placement != p {
			t.Fatalf("Unmarshal %s = %q, %v", b, back.Placement, err)
		}
	}
	var m meta
	if err := json.Unmarshal([]byte(`{}`), &m); err != nil || !m.Placement.IsZero() {
		t.Errorf("a meta.json without the field: %q, %v; want none", m.Placement, err)
	}
	if err := json.Unmarshal([]byte(`{"placement":"cpu=1"}`), &m); !errors.Is(err, ErrBadPlacement) {
		t.Errorf("a bad placement in JSON: %v", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	allowed := set(0, 1)
	for _, tt := range []struct{ in, want string }{
		{"strategy=0,backend=1,loadgen=1", ""},
		{"none", ""},
		{"strategy=0,backend=2", "backend=2: CPU 2 not among the CPUs this process may use (0-1;"},
		{"loadgen=1-3", "loadgen=1-3: CPUs 2-3 not among"},
	} {
		p, err := Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		err = p.Check(allowed)
		if (tt.want == "") != (err == nil) || (err != nil && (!errors.Is(err, ErrBadPlacement) || !strings.Contains(err.Error(), tt.want))) {
			t.Errorf("Check(%q): %v; want %q", tt.in, err, tt.want)
		}
	}
}

func TestChildCPUs(t *testing.T) {
	t.Parallel()
	start := set(0, 1, 2, 3)
	for _, tt := range []struct {
		placement               string
		backend, loadgen, strat string
	}{
		// Nothing pinned: children inherit (empty: no change).
		{"none", "", "", ""},
		{"backend=2", "2", "", ""},
		// This process pinned: an unplaced role gets the CPUs of the
		// start, not the strategy's it would inherit.
		{"strategy=0", "0-3", "0-3", "0"},
		{"strategy=0,backend=1", "1", "0-3", "0"},
	} {
		p, err := Parse(tt.placement)
		if err != nil {
			t.Fatal(err)
		}
		a := &Applied{Placement: p, Start: start}
		if a.ChildCPUs(Backend).String() != tt.backend || a.ChildCPUs(Loadgen).String() != tt.loadgen ||
			a.ChildCPUs(Strategy).String() != tt.strat {
			t.Errorf("%s: ChildCPUs backend %q loadgen %q strategy %q; want %q %q %q", tt.placement,
				a.ChildCPUs(Backend), a.ChildCPUs(Loadgen), a.ChildCPUs(Strategy), tt.backend, tt.loadgen, tt.strat)
		}
	}
	if !(*Applied)(nil).ChildCPUs(Backend).IsEmpty() {
		t.Error("a nil Applied gives CPUs")
	}
}
