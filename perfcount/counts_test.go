package perfcount

import "testing"

func TestCountsSubAndUnits(t *testing.T) {
	t.Parallel()
	var before, after Counts
	for e := range numEvents {
		before.counted[e], after.counted[e] = true, true
	}
	before.values = [numEvents]uint64{10, 5, 1, 1000, 2000, 7}
	after.values = [numEvents]uint64{110, 25, 5, 3000, 6000, 47}
	d := after.Sub(before)
	if v, ok := d.Get(MinorFaults); !ok || v != 100 {
		t.Errorf("faults %d %v", v, ok)
	}
	if ipc, ok := d.IPC(); !ok || ipc != 2 {
		t.Errorf("IPC %v %v", ipc, ok)
	}
	want := []Unit{{"migrations/op", 0.4, false}, {"IPC", 2, true}, {"cache-misses/op", 4, false}}
	got := d.PerTask(10)
	if len(got) != len(want) {
		t.Fatalf("PerTask = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("unit %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	// Uncounted hardware: no IPC, no cache misses, never zeros.
	sw := after
	for _, e := range []Event{Cycles, Instructions, CacheMisses} {
		sw.counted[e] = false
	}
	d = sw.Sub(before)
	if _, ok := d.Get(Cycles); ok {
		t.Error("cycles counted in the difference of a read without them")
	}
	if us := d.PerTask(10); len(us) != 1 || us[0].Name != "migrations/op" {
		t.Errorf("PerTask without hardware = %+v", us)
	}
}
