//go:build !linux

package perfcount

// Counters count nothing outside Linux: perf_event_open is Linux's.
type Counters struct{}

// Open returns counters that count nothing; Missing says why.
func Open() *Counters { return &Counters{} }

// Missing says that nothing is counted, and why.
func (*Counters) Missing() []string {
	return []string{"OS counters (minor-faults, context-switches, cpu-migrations, cycles, instructions, cache-misses): " +
		"not counted: they need Linux's perf_event_open"}
}

// Has reports false: nothing is counted.
func (*Counters) Has(Event) bool { return false }

// Read returns counts with no event counted.
func (*Counters) Read() (Counts, error) { return Counts{}, nil }

// Close does nothing.
func (*Counters) Close() error { return nil }
