package harness

import (
	"context"
	"fmt"
	"runtime/metrics"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/perfcount"
	"github.com/concbench/concbench/workloads/backend"
)

// snapshot is the process's cumulative counters at one instant.
type snapshot struct {
	// cpu is user + system of all threads (RUSAGE_SELF) plus that of
	// children reaped so far (RUSAGE_CHILDREN): an out-of-process strategy
	// reaps its program before Run returns, so its CPU counts in its cell.
	// Backend child processes run for the whole run and are reaped only at
	// its end, so theirs never does. The fault and switch counts are
	// gathered the same way.
	cpu          time.Duration
	minorFaults  uint64 // page faults served without I/O (ru_minflt)
	ctxSwitches  uint64 // voluntary (ru_nvcsw) + involuntary (ru_nivcsw)
	allocBytes   uint64
	allocObjects uint64
	spawned      uint64 // goroutines created
	// os is the OS counters of this process's threads (package
	// perfcount: CPU migrations, and cycles, instructions and cache
	// misses where the kernel counts them; children are not counted), or
	// nothing counted when the run opened none.
	os perfcount.Counts
}

var snapshotMetrics = []string{
	"/gc/heap/allocs:bytes",
	"/gc/heap/allocs:objects",
	"/sched/goroutines-created:goroutines",
}

// snapshotter takes snapshots into storage of its own, so that taking
// one allocates nothing: the snapshot at a job's Begin is taken inside the
// allocation count it starts.
type snapshotter struct {
	samples  []metrics.Sample
	counters *perfcount.Counters // nil until openCounters
}

func newSnapshotter() *snapshotter {
	s := &snapshotter{samples: make([]metrics.Sample, len(snapshotMetrics))}
	for i, name := range snapshotMetrics {
		s.samples[i].Name = name
	}
	return s
}

func (s *snapshotter) take() snapshot {
	var ru, children unix.Rusage
	// Cannot fail with these arguments and valid pointers.
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	_ = unix.Getrusage(unix.RUSAGE_CHILDREN, &children)
	metrics.Read(s.samples)
	var counts perfcount.Counts
	if s.counters != nil {
		// A failed read counts nothing: the round's OS units are absent.
		counts, _ = s.counters.Read()
	}
	return snapshot{
		cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano() +
			children.Utime.Nano() + children.Stime.Nano()),
		minorFaults:  uint64(ru.Minflt + children.Minflt),
		ctxSwitches:  uint64(ru.Nvcsw + ru.Nivcsw + children.Nvcsw + children.Nivcsw),
		allocBytes:   s.samples[0].Value.Uint64(),
		allocObjects: s.samples[1].Value.Uint64(),
		spawned:      s.samples[2].Value.Uint64(),
		os:           counts,
	}
}

// openCounters opens the OS counters (perfcount.Open) that every later
// snapshot reads: once a run, at its start, while the process is quiet,
// so that every thread the run starts is counted. It returns one line for
// each group of events this machine does not count, saying why
// (perfcount.Counters.Missing); their units are then absent, never 0.
func (s *snapshotter) openCounters() []string {
	s.counters = perfcount.Open()
	return s.counters.Missing()
}

// closeCounters closes the OS counters at the end of a run; a snapshot
// taken later (by a strategy abandoned past its timeout) counts nothing.
func (s *snapshotter) closeCounters() error {
	if s.counters == nil {
		return nil
	}
	return s.counters.Close()
}

// backendStats is a provider whose servers report their own counters
// (ObservedBackends has it).
type backendStats interface {
	Stats() ([]backend.Stats, error)
}

// backendCPU is the RoundCheck that measures the CPU time of the backends'
// processes in each counted round of an I/O cell (CellResult.BackendCPU):
// the user and system time each server reports (backend.Stats), read in
// BeginRound and EndRound. It reads the servers' cumulative counters, not
// their measurement windows, which the providers' own checks start and
// read around the same rounds. The span is the round's as the backend
// sees it: from before the strategy's setup to after its verification,
// so it includes accepting and closing the round's connections, which the
// client's cpu-sec/op (from Begin) does not.
type backendCPU struct {
	backends backendStats
	before   []backend.Stats // of the round in progress; nil: not measured
}

// backendCPUCheck returns the check that measures the backends' CPU, or
// nil when there is none to measure apart: a provider without the
// servers' counters (a Redis), or one whose servers run in this process
// (InProcessBackends), whose CPU is the client's own cpu-sec/op.
func backendCPUCheck(p BackendProvider) RoundCheck {
	s, ok := p.(backendStats)
	if _, inProcess := p.(*InProcessBackends); !ok || inProcess {
		return nil
	}
	return &backendCPU{backends: s}
}

// BeginRound implements RoundCheck.
func (c *backendCPU) BeginRound(_ context.Context, r *Round) error {
	c.before = nil
	if !r.Counted || r.Cell.Spec.Backend.Instances == 0 {
		return nil
	}
	st, err := c.backends.Stats()
	if err != nil {
		return fmt.Errorf("backend CPU: read the servers' counters: %w", err)
	}
	c.before = st
	return nil
}

// EndRound implements RoundCheck: it sets res.BackendCPU. A server that
// was replaced during the round (its counters started again) leaves the
// round unmeasured.
func (c *backendCPU) EndRound(_ context.Context, _ *Round, res *CellResult) error {
	before := c.before
	c.before = nil
	if before == nil {
		return nil
	}
	after, err := c.backends.Stats()
	if err != nil {
		return fmt.Errorf("backend CPU: read the servers' counters: %w", err)
	}
	if len(after) != len(before) {
		return nil
	}
	var cpu time.Duration
	for i := range after {
		d := after[i].UserCPU + after[i].SystemCPU - before[i].UserCPU - before[i].SystemCPU
		if d < 0 {
			return nil
		}
		cpu += d
	}
	res.BackendCPU, res.BackendCPUMeasured = cpu, true
	return nil
}

// peakSampler records the most goroutines and OS threads seen while a
// round runs, every 2 ms: often enough to catch a round's plateau. It
// runs only in one short round of a cell's first warm-up (see calibrate):
// on 2 cores each wake-up preempts the work it watches, and each read of
// the scheduler's counts takes the scheduler's lock, which a strategy
// spawning a goroutine a task contends for. No timed round feels it; they
// report the peaks it found.
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
	running := make(chan struct{})
	p.done.Go(func() {
		close(running)
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
	<-running // sampling from the round's start
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

// nearestRank is the 0-based index of the nearest-rank q-quantile in n
// sorted samples.
func nearestRank(n int, q float64) int {
	rank := int(q*float64(n)+0.999999999) - 1
	return min(max(rank, 0), n-1)
}

// Latency holds the exact nearest-rank percentiles of a round's task
// latencies (every sample counts, none is binned) and the largest.
type Latency struct {
	P50, P99, P999, Max time.Duration
}

// latencyOf returns the percentiles of d, reordering d. It selects the
// three ranks instead of sorting: linear in the samples, where a sort of
// a few million latencies a round would cost a good part of a second.
func latencyOf(d []int64) Latency {
	n := len(d)
	if n == 0 {
		return Latency{}
	}
	var l Latency
	top := d[0]
	for _, v := range d {
		top = max(top, v)
	}
	l.Max = time.Duration(top)
	// Largest rank first: each selection leaves the smaller ranks to its
	// left, so the next one searches only there.
	k999 := nearestRank(n, 0.999)
	l.P999 = time.Duration(selectNth(d, k999))
	k99 := nearestRank(n, 0.99)
	l.P99 = time.Duration(selectNth(d[:k999+1], k99))
	k50 := nearestRank(n, 0.50)
	l.P50 = time.Duration(selectNth(d[:k99+1], k50))
	return l
}

// selectNth reorders a so that a[k] is the value it would hold sorted,
// with nothing larger before it and nothing smaller after it, and returns
// it. Quickselect with a median-of-three pivot and a three-way partition,
// so runs of equal values (a lockstep batch's tasks share their times)
// cost nothing extra.
func selectNth(a []int64, k int) int64 {
	lo, hi := 0, len(a)-1
	for lo < hi {
		mid := lo + (hi-lo)/2
		p := median3(a[lo], a[mid], a[hi])
		// a[lo:lt] < p, a[lt:i] == p, a[gt+1:hi+1] > p
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch v := a[i]; {
			case v < p:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case v > p:
				a[gt], a[i] = a[i], a[gt]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return p
		}
	}
	return a[k]
}

func median3(a, b, c int64) int64 {
	if a > b {
		a, b = b, a
	}
	if b > c {
		b = c
	}
	return max(a, b)
}
