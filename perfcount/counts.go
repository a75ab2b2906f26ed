package perfcount

import "fmt"

// Event is one thing the counters count.
type Event int

// The events, software first.
const (
	MinorFaults     Event = iota // page faults served without I/O
	ContextSwitches              // voluntary and involuntary
	Migrations                   // a thread moved to another CPU
	Cycles                       // CPU cycles (hardware)
	Instructions                 // instructions retired (hardware)
	CacheMisses                  // last-level cache misses (hardware)
	numEvents
)

var eventNames = [numEvents]string{"minor-faults", "context-switches", "cpu-migrations", "cycles",
	"instructions", "cache-misses"}

// String is the event's name as perf stat writes it.
func (e Event) String() string {
	if e < 0 || e >= numEvents {
		return fmt.Sprintf("Event(%d)", int(e))
	}
	return eventNames[e]
}

// Counts are the counters' values at one moment, or (from Sub) what
// happened between two moments. An event that is not counted has no
// value: Get reports false for it, never 0.
type Counts struct {
	values  [numEvents]uint64
	counted [numEvents]bool
}

// Get returns the count of e and whether e is counted.
func (c Counts) Get(e Event) (uint64, bool) {
	if e < 0 || e >= numEvents {
		return 0, false
	}
	return c.values[e], c.counted[e]
}

// Sub returns c minus before: the events between the two reads. An event
// is counted in the result if it is counted in both.
func (c Counts) Sub(before Counts) Counts {
	var d Counts
	for e := range numEvents {
		if c.counted[e] && before.counted[e] {
			d.counted[e] = true
			d.values[e] = c.values[e] - min(c.values[e], before.values[e])
		}
	}
	return d
}

// IPC is instructions per cycle; false when the hardware events are not
// counted or no cycle was.
func (c Counts) IPC() (float64, bool) {
	ins, ok1 := c.Get(Instructions)
	cyc, ok2 := c.Get(Cycles)
	if !ok1 || !ok2 || cyc == 0 {
		return 0, false
	}
	return float64(ins) / float64(cyc), true
}

// Unit is one figure for a benchmark line.
type Unit struct {
	Name           string // benchfmt unit: "migrations/op", "IPC", "cache-misses/op"
	Value          float64
	HigherIsBetter bool
}

// PerTask returns the figures the harness reports from a round's counts
// (c is a Sub) over tasks tasks: migrations/op, and where the hardware
// events are counted IPC and cache-misses/op. Page faults and context
// switches per task come from getrusage in the harness (minor and major,
// voluntary and involuntary apart); Get gives this package's totals.
// Uncounted events give no unit.
func (c Counts) PerTask(tasks int) []Unit {
	if tasks <= 0 {
		return nil
	}
	var us []Unit
	if v, ok := c.Get(Migrations); ok {
		us = append(us, Unit{Name: "migrations/op", Value: float64(v) / float64(tasks)})
	}
	if ipc, ok := c.IPC(); ok {
		us = append(us, Unit{Name: "IPC", Value: ipc, HigherIsBetter: true})
	}
	if v, ok := c.Get(CacheMisses); ok {
		us = append(us, Unit{Name: "cache-misses/op", Value: float64(v) / float64(tasks)})
	}
	return us
}
