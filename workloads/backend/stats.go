package backend

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Stats counts what a server has done since it started. CONCBENCH.STATS
// (and INFO) return it as text; [Control.Stats] parses it back. Data
// requests, Gets, GetsAnswered and in flight are defined in the package
// documentation, under Verification.
type Stats struct {
	Conns         int64 // connections accepted (including rejected ones)
	ActiveConns   int64 // connections open now
	RejectedConns int64 // connections refused by MaxConns
	Requests      int64 // requests parsed, of any command
	Replies       int64 // replies written in full
	Errors        int64 // error replies among them, protocol errors included
	Resets        int64 // injected faults, by kind
	Stalls        int64
	PartialCloses int64
	SlowDrips     int64

	DataRequests int64 // GET, MGET, SET and DEL requests read
	Gets         int64 // keys asked for by GET and MGET (an MGET of k keys counts k)
	GetsAnswered int64 // of those, the keys whose values were written
	InFlight     int64 // data requests in flight now
	MaxInFlight  int64 // the most data requests in flight at once since the start

	QueuedBytes     int64 // reply bytes held now, not yet written (see Config.MaxQueuedBytes)
	PeakQueuedBytes int64 // the most reply bytes held at once since the start
	StoredBytes     int64 // bytes of keys and values held by SET (see Config.MaxStoredBytes)

	// UserCPU and SystemCPU are the CPU time of the whole process the
	// server runs in (getrusage RUSAGE_SELF), since that process started:
	// the server's own cost when it runs alone in a child process.
	UserCPU, SystemCPU time.Duration
}

// Faults returns the number of injected faults of every kind.
func (s Stats) Faults() int64 { return s.Resets + s.Stalls + s.PartialCloses + s.SlowDrips }

// fields names every field of Stats in its text form, in order.
func (s *Stats) fields() []field {
	return []field{
		{"conns", &s.Conns}, {"active_conns", &s.ActiveConns}, {"rejected_conns", &s.RejectedConns},
		{"requests", &s.Requests}, {"replies", &s.Replies}, {"errors", &s.Errors},
		{"resets", &s.Resets}, {"stalls", &s.Stalls}, {"partial_closes", &s.PartialCloses}, {"slow_drips", &s.SlowDrips},
		{"data_requests", &s.DataRequests}, {"gets", &s.Gets}, {"gets_answered", &s.GetsAnswered},
		{"in_flight", &s.InFlight}, {"max_in_flight", &s.MaxInFlight},
		{"queued_bytes", &s.QueuedBytes}, {"peak_queued_bytes", &s.PeakQueuedBytes}, {"stored_bytes", &s.StoredBytes},
		{"user_cpu_ns", (*int64)(&s.UserCPU)}, {"system_cpu_ns", (*int64)(&s.SystemCPU)},
	}
}

// String formats the stats as "name:value" lines, like Redis's INFO, with
// CPU times in nanoseconds. faults is the sum of the four kinds.
func (s Stats) String() string {
	f := s.fields()
	faults := s.Faults()
	return formatFields(append(f[:6:6], append([]field{{"faults", &faults}}, f[6:]...)...))
}

// ParseStats parses the text form of Stats (String's output). Names it does
// not know are skipped, so an older client reads a newer server.
func ParseStats(text string) (Stats, error) {
	var s Stats
	err := parseFields(text, s.fields())
	return s, err
}

// Window is what a server did in one measurement window: from one
// CONCBENCH.WINDOW command (or the server's start) to the next, which
// returns it and starts the next window. The counts are defined in the
// package documentation, under Verification, with how a harness checks a
// round against them.
type Window struct {
	Duration     time.Duration // how long the window lasted
	DataRequests int64         // GET, MGET, SET and DEL requests read
	Gets         int64         // keys asked for by GET and MGET
	GetsAnswered int64         // of those, the keys whose values were written
	// MaxInFlight is the most data requests in flight at once during the
	// window, across all connections; it starts from those in flight
	// when the window began.
	MaxInFlight int64
	Errors      int64 // error replies
	Faults      int64 // injected faults
	// UserCPU and SystemCPU are the process's CPU time during the window
	// (see Stats.UserCPU).
	UserCPU, SystemCPU time.Duration
}

func (w *Window) fields() []field {
	return []field{
		{"duration_ns", (*int64)(&w.Duration)}, {"data_requests", &w.DataRequests},
		{"gets", &w.Gets}, {"gets_answered", &w.GetsAnswered}, {"max_in_flight", &w.MaxInFlight},
		{"errors", &w.Errors}, {"faults", &w.Faults},
		{"user_cpu_ns", (*int64)(&w.UserCPU)}, {"system_cpu_ns", (*int64)(&w.SystemCPU)},
	}
}

// String formats the window as "name:value" lines, durations in nanoseconds.
func (w Window) String() string { return formatFields(w.fields()) }

// ParseWindow parses the text form of Window (String's output).
func ParseWindow(text string) (Window, error) {
	var w Window
	err := parseFields(text, w.fields())
	return w, err
}

// field is one "name:value" line of the text forms.
type field struct {
	name string
	v    *int64
}

func formatFields(fs []field) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.name)
		b.WriteByte(':')
		b.WriteString(strconv.FormatInt(*f.v, 10))
		b.WriteString("\r\n")
	}
	return b.String()
}

func parseFields(text string, fs []field) error {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return fmt.Errorf("backend: stats line %q: want name:value", line)
		}
		for _, f := range fs {
			if f.name == name {
				n, err := strconv.ParseInt(value, 10, 64)
				if err != nil {
					return fmt.Errorf("backend: stats line %q: %w", line, err)
				}
				*f.v = n
				break
			}
		}
	}
	return nil
}

// counters is the live, atomically updated form of Stats.
type counters struct {
	conns, active, rejected, requests, replies, errors atomic.Int64
	resets, stalls, partials, drips                    atomic.Int64
	data, gets, answered                               atomic.Int64
	inFlight, maxInFlight, windowMaxInFlight           atomic.Int64
	held, peakHeld                                     atomic.Int64

	windowMu    sync.Mutex
	windowStart time.Time
	windowBase  Window // cumulative counts when the window began (Duration unused)
}

// faults returns the injected faults of every kind so far.
func (c *counters) faults() int64 {
	return c.resets.Load() + c.stalls.Load() + c.partials.Load() + c.drips.Load()
}

// addInFlight records n more data requests in flight (n < 0: fewer).
func (c *counters) addInFlight(n int64) {
	v := c.inFlight.Add(n)
	if n > 0 {
		raise(&c.maxInFlight, v)
		raise(&c.windowMaxInFlight, v)
	}
}

// addHeld records n more reply bytes held (n < 0: fewer) and returns the
// bytes held now.
func (c *counters) addHeld(n int64) int64 {
	v := c.held.Add(n)
	if n > 0 {
		raise(&c.peakHeld, v)
	}
	return v
}

// raise sets a to v if v is larger.
func raise(a *atomic.Int64, v int64) {
	for {
		old := a.Load()
		if v <= old || a.CompareAndSwap(old, v) {
			return
		}
	}
}

func (c *counters) snapshot(stored int64) Stats {
	user, sys := processCPU()
	return Stats{
		Conns: c.conns.Load(), ActiveConns: c.active.Load(), RejectedConns: c.rejected.Load(),
		Requests: c.requests.Load(), Replies: c.replies.Load(), Errors: c.errors.Load(),
		Resets: c.resets.Load(), Stalls: c.stalls.Load(), PartialCloses: c.partials.Load(), SlowDrips: c.drips.Load(),
		DataRequests: c.data.Load(), Gets: c.gets.Load(), GetsAnswered: c.answered.Load(),
		InFlight: c.inFlight.Load(), MaxInFlight: c.maxInFlight.Load(),
		QueuedBytes: c.held.Load(), PeakQueuedBytes: c.peakHeld.Load(), StoredBytes: stored,
		UserCPU: user, SystemCPU: sys,
	}
}

// cumulative returns the counts a window is the difference of.
func (c *counters) cumulative() Window {
	user, sys := processCPU()
	return Window{
		DataRequests: c.data.Load(), Gets: c.gets.Load(), GetsAnswered: c.answered.Load(),
		Errors: c.errors.Load(), Faults: c.faults(),
		UserCPU: user, SystemCPU: sys,
	}
}

// startWindow begins the first window.
func (c *counters) startWindow() {
	c.windowMu.Lock()
	c.windowStart, c.windowBase = time.Now(), c.cumulative()
	c.windowMu.Unlock()
}

// nextWindow returns the window that ends now and begins the next one.
func (c *counters) nextWindow() Window {
	c.windowMu.Lock()
	defer c.windowMu.Unlock()
	start, base := c.windowStart, c.windowBase
	end, now := time.Now(), c.cumulative()
	c.windowStart, c.windowBase = end, now
	// The next window's maximum starts from what is in flight now.
	most := c.windowMaxInFlight.Swap(c.inFlight.Load())
	return Window{
		Duration:     end.Sub(start),
		DataRequests: now.DataRequests - base.DataRequests,
		Gets:         now.Gets - base.Gets,
		GetsAnswered: now.GetsAnswered - base.GetsAnswered,
		MaxInFlight:  most,
		Errors:       now.Errors - base.Errors,
		Faults:       now.Faults - base.Faults,
		UserCPU:      now.UserCPU - base.UserCPU,
		SystemCPU:    now.SystemCPU - base.SystemCPU,
	}
}

// processCPU returns the user and system CPU time of this process.
func processCPU() (user, sys time.Duration) {
	var ru unix.Rusage
	// Cannot fail with these arguments and a valid pointer.
	_ = unix.Getrusage(unix.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}
