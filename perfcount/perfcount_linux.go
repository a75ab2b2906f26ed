package perfcount

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// group is a set of events perf reads together: one leader and its
// siblings, read with one read(2).
type group struct {
	name   string
	typ    uint32
	events []Event
	config []uint64
}

var groups = []group{
	{name: "software counters", typ: unix.PERF_TYPE_SOFTWARE,
		events: []Event{MinorFaults, ContextSwitches, Migrations},
		config: []uint64{unix.PERF_COUNT_SW_PAGE_FAULTS_MIN, unix.PERF_COUNT_SW_CONTEXT_SWITCHES, unix.PERF_COUNT_SW_CPU_MIGRATIONS}},
	{name: "hardware counters", typ: unix.PERF_TYPE_HARDWARE,
		events: []Event{Cycles, Instructions, CacheMisses},
		config: []uint64{unix.PERF_COUNT_HW_CPU_CYCLES, unix.PERF_COUNT_HW_INSTRUCTIONS, unix.PERF_COUNT_HW_CACHE_MISSES}},
}

// bitInheritThread is perf_event_attr.inherit_thread (bit 35, Linux 5.13):
// inherit only into threads (clone with CLONE_THREAD), not child
// processes. golang.org/x/sys/unix names the bits only up to 27.
const bitInheritThread = 1 << 35

// Counters are open perf counters of this process. Read and Close may be
// called from any goroutine; Read calls do not overlap.
type Counters struct {
	mu      sync.Mutex
	leaders [][]int // by group: the leader's descriptor of each thread
	fds     []int   // every descriptor, to close
	missing []string
	counted [numEvents]bool
	buf     []byte
}

// Open opens the counters of every group it can for every thread of the
// process; Missing says what it could not open and why. Open it once, when
// the process is quiet: a thread started while Open runs (a window of
// microseconds) may go uncounted.
func Open() *Counters {
	c := &Counters{leaders: make([][]int, len(groups)), buf: make([]byte, 8*(3+numEvents))}
	tids, err := threads()
	if err != nil {
		c.missing = append(c.missing, fmt.Sprintf("OS counters: not counted: %v", err))
		return c
	}
	for gi, g := range groups {
		var fds []int
		var failed error
		for _, tid := range tids {
			gfds, err := openGroup(g, tid)
			if errors.Is(err, unix.ESRCH) {
				continue // the thread ended meanwhile
			}
			if err != nil {
				failed = err
				break
			}
			fds = append(fds, gfds...)
			c.leaders[gi] = append(c.leaders[gi], gfds[0])
		}
		if failed != nil || len(c.leaders[gi]) == 0 {
			for _, fd := range fds {
				unix.Close(fd)
			}
			c.leaders[gi] = nil
			c.missing = append(c.missing, missingLine(g, failed))
			continue
		}
		c.fds = append(c.fds, fds...)
		for _, e := range g.events {
			c.counted[e] = true
		}
	}
	return c
}

// openGroup opens g's events on thread tid; the leader's descriptor first.
func openGroup(g group, tid int) ([]int, error) {
	var fds []int
	leader := -1
	for i, cfg := range g.config {
		attr := unix.PerfEventAttr{
			Type:   g.typ,
			Size:   uint32(unsafe.Sizeof(unix.PerfEventAttr{})),
			Config: cfg,
			// Kernel time counts: context switches and most of a fault's
			// work happen there.
			Bits:        unix.PerfBitInherit | bitInheritThread | unix.PerfBitExcludeHv,
			Read_format: unix.PERF_FORMAT_GROUP | unix.PERF_FORMAT_TOTAL_TIME_ENABLED | unix.PERF_FORMAT_TOTAL_TIME_RUNNING,
		}
		fd, err := unix.PerfEventOpen(&attr, tid, -1, leader, unix.PERF_FLAG_FD_CLOEXEC)
		if err != nil {
			for _, fd := range fds {
				unix.Close(fd)
			}
			return nil, fmt.Errorf("perf_event_open %s: %w", g.events[i], err)
		}
		if i == 0 {
			leader = fd
		}
		fds = append(fds, fd)
	}
	return fds, nil
}

// missingLine says in one line why a group is not counted.
func missingLine(g group, err error) string {
	names := make([]string, len(g.events))
	for i, e := range g.events {
		names[i] = e.String()
	}
	why := "no thread to count"
	switch {
	case err == nil:
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENODEV):
		why = fmt.Sprintf("the kernel exposes no such events here (%v); virtual machines often have no virtual PMU", err)
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		why = fmt.Sprintf("not permitted (%v): kernel.perf_event_paranoid is %s; run as root or lower it to 1", err,
			paranoid())
	case errors.Is(err, unix.EINVAL):
		why = fmt.Sprintf("the kernel refused the events (%v); counting threads without child processes needs Linux 5.13", err)
	case errors.Is(err, unix.ENOSYS):
		why = fmt.Sprintf("this kernel has no perf_event_open (%v)", err)
	default:
		why = err.Error()
	}
	return fmt.Sprintf("%s (%s): not counted: %s", g.name, strings.Join(names, ", "), why)
}

func paranoid() string {
	b, err := os.ReadFile("/proc/sys/kernel/perf_event_paranoid")
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

// threads lists the process's threads.
func threads() ([]int, error) {
	entries, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, fmt.Errorf("list threads: %w", err)
	}
	var tids []int
	for _, e := range entries {
		if tid, err := strconv.Atoi(e.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// Missing returns one line per group of events that is not counted,
// saying which events and why; nil when everything is counted.
func (c *Counters) Missing() []string { return append([]string(nil), c.missing...) }

// Has reports whether e is counted.
func (c *Counters) Has(e Event) bool { return e >= 0 && e < numEvents && c.counted[e] }

// Read returns the counts since Open, summed over the process's threads
// (those that ended included). A hardware count that perf multiplexed
// with other users of the counters is scaled by the time it ran.
func (c *Counters) Read() (Counts, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out Counts
	for gi, leaders := range c.leaders {
		if leaders == nil {
			continue
		}
		g := groups[gi]
		for _, fd := range leaders {
			n, err := unix.Read(fd, c.buf)
			if err != nil {
				return Counts{}, fmt.Errorf("perfcount: read %s: %w", g.name, err)
			}
			// nr, time_enabled, time_running, then a value per event.
			if n < 8*(3+len(g.events)) {
				return Counts{}, fmt.Errorf("perfcount: read %s: %d bytes", g.name, n)
			}
			word := func(i int) uint64 { return binary.NativeEndian.Uint64(c.buf[8*i:]) }
			enabled, running := word(1), word(2)
			for i, e := range g.events {
				v := word(3 + i)
				if running > 0 && running < enabled {
					v = uint64(float64(v) * float64(enabled) / float64(running))
				}
				out.values[e] += v
			}
		}
		for _, e := range g.events {
			out.counted[e] = true
		}
	}
	return out, nil
}

// Close closes the counters.
func (c *Counters) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var errs []error
	for _, fd := range c.fds {
		if err := unix.Close(fd); err != nil {
			errs = append(errs, err)
		}
	}
	c.fds, c.leaders = nil, make([][]int, len(groups))
	c.counted = [numEvents]bool{}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("perfcount: close: %w", err)
	}
	return nil
}
