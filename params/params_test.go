package params

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestResolve(t *testing.T) {
	t.Parallel()
	specs := []Spec{
		Int("tasks", 1000, 1, 1<<40, "tasks"),
		Duration("latency", time.Millisecond, 0, time.Second, "latency"),
		Switch("offload", false, "offload"),
		Enum("mode", "a", []string{"a", "b"}, "mode"),
	}
	tests := []struct {
		name    string
		values  Values
		want    string
		wantErr error
	}{
		{"defaults", nil, "tasks=1000/latency=1ms/offload=off/mode=a", nil},
		{"suffixes", Values{"tasks": "4Ki", "latency": "500us"}, "tasks=4096/latency=500us/offload=off/mode=a", nil},
		{"k suffix", Values{"tasks": "2k"}, "tasks=2000/latency=1ms/offload=off/mode=a", nil},
		{"Gi suffix", Values{"tasks": "2Gi"}, "tasks=2147483648/latency=1ms/offload=off/mode=a", nil},
		{"G suffix", Values{"tasks": "3G"}, "tasks=3000000000/latency=1ms/offload=off/mode=a", nil},
		{"overflow", Values{"tasks": "9223372036854775807Ki"}, "", ErrInvalid},
		{"canonical duration", Values{"latency": "0.5ms"}, "tasks=1000/latency=500us/offload=off/mode=a", nil},
		{"unknown name", Values{"task": "1"}, "", ErrUnknown},
		{"not an int", Values{"tasks": "many"}, "", ErrInvalid},
		{"out of range", Values{"tasks": "0"}, "", ErrInvalid},
		{"bad duration", Values{"latency": "fast"}, "", ErrInvalid},
		{"duration too large", Values{"latency": "2s"}, "", ErrInvalid},
		{"bad switch", Values{"offload": "yes"}, "", ErrInvalid},
		{"bad enum", Values{"mode": "c"}, "", ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := Resolve(specs, tt.values)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Resolve(%v) error = %v, want %v", tt.values, err, tt.wantErr)
			}
			if err == nil && set.String() != tt.want {
				t.Errorf("Resolve(%v) = %s, want %s", tt.values, set, tt.want)
			}
		})
	}
}

func TestResolveErrorNamesTheProblem(t *testing.T) {
	t.Parallel()
	_, err := Resolve([]Spec{Int("tasks", 1, 1, 10, "")}, Values{"tasks": "11"})
	if err == nil || err.Error() != `invalid parameter value: tasks="11": must be between 1 and 10` {
		t.Fatalf("error = %v", err)
	}
	_, err = Resolve([]Spec{Int("tasks", 1, 1, 10, "")}, Values{"size": "1"})
	if err == nil || err.Error() != `unknown parameter "size" (valid: tasks)` {
		t.Fatalf("error = %v", err)
	}
}

func TestSetAccessors(t *testing.T) {
	t.Parallel()
	set := Set{{"n", "42"}, {"d", "1ms"}, {"b", "on"}}
	if set.Int("n") != 42 || set.Duration("d") != time.Millisecond || !set.Bool("b") || set.Get("x") != "" {
		t.Fatalf("accessors wrong on %v", set)
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	got := Expand(Values{"b": "1,2", "a": "x, y"})
	want := []Values{{"a": "x", "b": "1"}, {"a": "y", "b": "1"}, {"a": "x", "b": "2"}, {"a": "y", "b": "2"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Expand = %v, want %v", got, want)
	}
	if got := Expand(nil); len(got) != 1 || len(got[0]) != 0 {
		t.Fatalf("Expand(nil) = %v, want one empty set", got)
	}
}

// TestDefaultStatedOnce guards `concbench list` against "(default
// 4×GOMAXPROCS) (default 8)": a Doc that gives a rule for its default
// loses that clause, and the note states the rule with the value here.
func TestDefaultStatedOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		spec              Spec
		meaning, defaults string
	}{
		{"plain", Int("tasks", 1000, 1, 1<<20, "number of tasks"), "number of tasks", "1000"},
		{"rule", Int("workers", 8, 1, 1<<14, "workers (default 4×GOMAXPROCS)"), "workers", "4×GOMAXPROCS, here 8"},
		{"rule equal to the value", Int("conns", 0, 0, 9, "connections (default 0)"), "connections", "0"},
		{"other parenthesis kept", Int("loops", 1, 0, 9, "event loops (P or 0: one per core)"), "event loops (P or 0: one per core)", "1"},
		{"clause not at the end", Int("n", 2, 0, 9, "n (default twice) of them"), "n (default twice) of them", "2"},
		{"empty rule", Int("n", 2, 0, 9, "n (default )"), "n (default )", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.spec.Meaning(); got != tt.meaning {
				t.Errorf("Meaning() = %q, want %q", got, tt.meaning)
			}
			if got := tt.spec.DefaultNote(); got != tt.defaults {
				t.Errorf("DefaultNote() = %q, want %q", got, tt.defaults)
			}
		})
	}
}
