package harness

import (
	"runtime/metrics"
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
	// its end, so theirs never does. The fault and switch counts are
	// gathered the same way.
	cpu          time.Duration
	minorFaults  uint64 // page faults served without I/O (ru_minflt)
	ctxSwitches  uint64 // voluntary (ru_nvcsw) + involuntary (ru_nivcsw)
	allocBytes   uint64
	allocObjects uint64
	spawned      uint64 // goroutines created
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
	samples []metrics.Sample
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
	return snapshot{
		cpu: time.Duration(ru.Utime.Nano() + ru.Stime.Nano() +
			children.Utime.Nano() + children.Stime.Nano()),
		minorFaults:  uint64(ru.Minflt + children.Minflt),
		ctxSwitches:  uint64(ru.Nvcsw + ru.Nivcsw + children.Nvcsw + children.Nivcsw),
		allocBytes:   s.samples[0].Value.Uint64(),
		allocObjects: s.samples[1].Value.Uint64(),
		spawned:      s.samples[2].Value.Uint64(),
	}
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
