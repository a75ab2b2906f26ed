package params

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrUnknown is wrapped by errors for parameter names that are not declared.
var ErrUnknown = errors.New("unknown parameter")

// ErrInvalid is wrapped by errors for values that do not parse or are out of range.
var ErrInvalid = errors.New("invalid parameter value")

// Spec declares one parameter.
type Spec struct {
	Name    string
	Default string
	// Doc says what the parameter means. Where the default depends on the
	// machine, Doc ends with how it is derived, as "(default RULE)":
	// "workers (default 4×GOMAXPROCS)"; [Spec.Meaning] and
	// [Spec.DefaultNote] split it off so that the default is stated once.
	Doc string
	// Check validates a value and returns it in canonical form (the form
	// used in benchmark names), or an error saying why it is not valid.
	Check func(string) (string, error)
}

// Meaning returns Doc without a trailing "(default RULE)".
func (s Spec) Meaning() string {
	meaning, _ := s.splitDoc()
	return meaning
}

// DefaultNote states the default: the value, or where Doc gives a rule
// for it, the rule and the value it has here ("4×GOMAXPROCS, here 8").
func (s Spec) DefaultNote() string {
	if _, rule := s.splitDoc(); rule != "" && rule != s.Default {
		return rule + ", here " + s.Default
	}
	return s.Default
}

// defaultClause opens the clause that ends a Doc stating its default.
const defaultClause = "(default "

// splitDoc splits "workers (default 4×GOMAXPROCS)" into "workers" and
// "4×GOMAXPROCS"; a Doc without that clause at its end has no rule.
func (s Spec) splitDoc() (meaning, rule string) {
	i := strings.LastIndex(s.Doc, defaultClause)
	if i < 0 || !strings.HasSuffix(s.Doc, ")") {
		return s.Doc, ""
	}
	rule = strings.TrimSpace(s.Doc[i+len(defaultClause) : len(s.Doc)-1])
	if rule == "" || strings.ContainsAny(rule, "()") {
		return s.Doc, ""
	}
	return strings.TrimSpace(s.Doc[:i]), rule
}

// Values are raw user values by parameter name.
type Values map[string]string

// KV is one resolved parameter.
type KV struct{ Name, Value string }

// Set is a resolved parameter list in declared order.
type Set []KV

// Get returns the value of name, or "" when the set has no such parameter.
func (s Set) Get(name string) string {
	for _, kv := range s {
		if kv.Name == name {
			return kv.Value
		}
	}
	return ""
}

// Int returns the value of name as an int. Resolve has validated it, so a
// value that does not parse is a programming error and panics.
func (s Set) Int(name string) int {
	n, err := parseInt(s.Get(name))
	if err != nil {
		panic(fmt.Sprintf("params: %s=%q: %v", name, s.Get(name), err))
	}
	return n
}

// Duration returns the value of name as a time.Duration (see Int on errors).
func (s Set) Duration(name string) time.Duration {
	d, err := time.ParseDuration(s.Get(name))
	if err != nil {
		panic(fmt.Sprintf("params: %s=%q: %v", name, s.Get(name), err))
	}
	return d
}

// Bool returns the value of name as a bool ("on" or "off").
func (s Set) Bool(name string) bool { return s.Get(name) == "on" }

// String renders the set as "a=1/b=2", the form used in benchmark names.
func (s Set) String() string {
	parts := make([]string, len(s))
	for i, kv := range s {
		parts[i] = kv.Name + "=" + kv.Value
	}
	return strings.Join(parts, "/")
}

// Resolve applies values over the defaults of specs. An unknown name or a bad
// value is an error naming the parameter, the value and the reason.
func Resolve(specs []Spec, values Values) (Set, error) {
	for name := range values {
		if !slices.ContainsFunc(specs, func(s Spec) bool { return s.Name == name }) {
			return nil, fmt.Errorf("%w %q (valid: %s)", ErrUnknown, name, Names(specs))
		}
	}
	set := make(Set, 0, len(specs))
	for _, s := range specs {
		raw, ok := values[s.Name]
		if !ok {
			raw = s.Default
		}
		v := raw
		if s.Check != nil {
			var err error
			if v, err = s.Check(raw); err != nil {
				return nil, fmt.Errorf("%w: %s=%q: %v", ErrInvalid, s.Name, raw, err)
			}
		}
		set = append(set, KV{s.Name, v})
	}
	return set, nil
}

// Names lists the names of specs, comma-separated, or "none".
func Names(specs []Spec) string {
	if len(specs) == 0 {
		return "none"
	}
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	return strings.Join(names, ", ")
}

// Expand turns values whose entries may be comma-separated sweeps into every
// combination of single values, in a stable order (names sorted, values in
// the order given).
func Expand(values Values) []Values {
	names := make([]string, 0, len(values))
	for n := range values {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []Values{{}}
	for _, n := range names {
		var next []Values
		for _, v := range strings.Split(values[n], ",") {
			for _, base := range out {
				c := make(Values, len(base)+1)
				for k, x := range base {
					c[k] = x
				}
				c[n] = strings.TrimSpace(v)
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

// Int declares an integer parameter in [lo, hi]. Values accept the suffixes
// k (×1000), Ki (×1024), M (×10^6), Mi (×2^20), G (×10^9) and Gi (×2^30).
func Int(name string, def, lo, hi int, doc string) Spec {
	return Spec{Name: name, Default: strconv.Itoa(def), Doc: doc, Check: func(s string) (string, error) {
		n, err := parseInt(s)
		if err != nil {
			return "", err
		}
		if n < lo || n > hi {
			return "", fmt.Errorf("must be between %d and %d", lo, hi)
		}
		return strconv.Itoa(n), nil
	}}
}

// Duration declares a duration parameter in [lo, hi] ("500us", "1ms").
func Duration(name string, def, lo, hi time.Duration, doc string) Spec {
	return Spec{Name: name, Default: FormatDuration(def), Doc: doc, Check: func(s string) (string, error) {
		d, err := time.ParseDuration(s)
		if err != nil {
			return "", fmt.Errorf("not a duration (want e.g. 500us, 1ms): %v", err)
		}
		if d < lo || d > hi {
			return "", fmt.Errorf("must be between %v and %v", lo, hi)
		}
		return FormatDuration(d), nil
	}}
}

// Switch declares an on/off parameter.
func Switch(name string, def bool, doc string) Spec {
	d := "off"
	if def {
		d = "on"
	}
	return Enum(name, d, []string{"on", "off"}, doc)
}

// Enum declares a parameter that takes one of choices.
func Enum(name, def string, choices []string, doc string) Spec {
	return Spec{Name: name, Default: def, Doc: doc, Check: func(s string) (string, error) {
		if !slices.Contains(choices, s) {
			return "", fmt.Errorf("must be one of %s", strings.Join(choices, ", "))
		}
		return s, nil
	}}
}

// FormatDuration renders d compactly and without characters that a benchmark
// name cannot hold ("1ms", "500us", "0s").
func FormatDuration(d time.Duration) string {
	return strings.ReplaceAll(d.String(), "µ", "u")
}

func parseInt(s string) (int, error) {
	mult := 1
	for _, suf := range []struct {
		s string
		m int
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"k", 1000}, {"M", 1000000}, {"G", 1000000000}} {
		if strings.HasSuffix(s, suf.s) {
			s, mult = strings.TrimSuffix(s, suf.s), suf.m
			break
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("not an integer")
	}
	if n > math.MaxInt/mult || n < math.MinInt/mult {
		return 0, fmt.Errorf("too large")
	}
	return n * mult, nil
}
