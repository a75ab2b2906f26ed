package harness

import (
	"runtime/metrics"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// snapshot is the process's cumulative counters at one instant.
type snapshot struct {
	// cpu is user + system of all threads (RUSAGE_SELF) plus that of
	// children reaped so far (RUSAGE_CHILDREN): an out-of-process strategy
	// reaps its program before Run returns, so its CPU counts in its cell.
	// Backend child processes run for the whole run and are reaped only at
	// its end, so theirs never does.
	cpu          time.Duration
	allocBytes   uint64
	allocObjects uint64
	spawned      uint64 // goroutines created
}

var snapshotMetrics = []string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/allocs:objects",
	"/sched/goroutines-created:goroutines",
}

func takeSnapshot() snapshot {
	var ru, children unix.Rusage
	// Cannot fail with these arguments and valid pointers.
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	_ = unix.Getrusage(unix.RUSAGE_CHILDREN, &children)
	samples := make([]metrics.Sample, len(snapshotMetrics))
	for i, name := range snapshotMetrics {
		samples[i].Name = name
	}
	metrics.Read(samples)
	return snapshot{
		cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano() +
			children.Utime.Nano() + children.Stime.Nano()),
		allocBytes:   samples[0].Value.Uint64(),
		allocObjects: samples[1].Value.Uint64(),
		spawned:      samples[2].Value.Uint64(),
	}
}

// peakSampler records the most goroutines and OS threads seen while a cell
// runs. It samples every 2 ms: often enough to catch a run's plateau (cells
// last tens of milliseconds or more), rarely enough that its wake-ups cost
// well under 1 % of a core.
type peakSampler struct {
	stop       chan struct{}
	done       sync.WaitGroup
	goroutines uint64
	threads    uint64
}

const peakInterval = 2 * time.Millisecond

func startPeakSampler() *peakSampler {
	p := &peakSampler{stop: make(chan struct{})}
	p.sample()
	p.done.Go(func() {
		t := time.NewTicker(peakInterval)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.sample()
			}
		}
	})
	return p
}

func (p *peakSampler) sample() {
	s := []metrics.Sample{{Name: "/sched/goroutines:goroutines"}, {Name: "/sched/threads/total:threads"}}
	metrics.Read(s)
	p.goroutines = max(p.goroutines, s[0].Value.Uint64())
	p.threads = max(p.threads, s[1].Value.Uint64())
}

// Stop ends sampling, takes a last sample and returns the peaks.
func (p *peakSampler) Stop() (goroutines, threads uint64) {
	close(p.stop)
	p.done.Wait()
	p.sample()
	return p.goroutines, p.threads
}

// percentile returns the nearest-rank q-quantile of sorted (exact: every
// sample counts, none is binned).
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.999999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func sortedDurations(d []time.Duration) []time.Duration {
	slices.Sort(d)
	return d
}
