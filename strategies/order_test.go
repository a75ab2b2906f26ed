package strategies_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/concbench/concbench/strategies"
	_ "github.com/concbench/concbench/strategies/external"
	_ "github.com/concbench/concbench/strategies/reactor"
	_ "github.com/concbench/concbench/strategies/simd"
)

// TestAllListsByOrderThenName pins the order users read strategies in (the
// default matrix's, so bench.txt's and every table's): the plain models,
// the reactor and simd by their Order, then every strategy without one
// (the out-of-process ones) by name.
func TestAllListsByOrderThenName(t *testing.T) {
	t.Parallel()
	want := []string{"blocking", "threads", "goroutines", "pool", "reactor", "simd"}
	all := strategies.All()
	names := strategies.Names()
	if len(names) <= len(want) || !slices.Equal(names[:len(want)], want) {
		t.Fatalf("Names() = %v, want %v first", names, want)
	}
	rest := names[len(want):]
	if !slices.IsSorted(rest) {
		t.Errorf("strategies without an Order are not by name: %v", rest)
	}
	for _, d := range all[len(want):] {
		if d.Order != 0 || !strings.HasPrefix(d.Name, "py-") {
			t.Errorf("%s (Order %d) listed after the ordered strategies", d.Name, d.Order)
		}
	}
}
