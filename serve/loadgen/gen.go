package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Target names what each request asks for and checks each answer. Both
// methods are called from many goroutines at once and must not allocate
// when the response is right: serve.Reference is the page endpoint's.
type Target interface {
	// AppendPath appends the request-target of request seq ("/page/7") to
	// dst and returns a tag that identifies the expected response.
	AppendPath(dst []byte, seq uint64) ([]byte, uint64)
	// VerifyResponse checks the body of a 200 response to the request
	// tagged tag.
	VerifyResponse(tag uint64, body []byte) error
}

// request is one scheduled request.
type request struct {
	seq int64 // position in the schedule (open) or issue order (closed)
	at  int64 // intended send time, ns since the run's start
}

// gen is one run.
type gen struct {
	cfg    Config
	target Target
	start  time.Time
	warmup int64 // ns: requests due before it are not counted
	end    int64 // ns: end of the window
	expire int64 // Config.Timeout in ns

	// Open mode: the schedule and per-request samples, indexed by seq -
	// first (the first request due in the window); -1 marks no sample.
	sched     []int64
	first     int64
	latency   []int64
	lag       []int64
	sendDelay []int64

	mu      sync.Mutex
	idle    []*clientConn // connections waiting for a request
	pending fifo          // requests waiting for a connection
	open    int           // connections open or being dialled
	dialing int
	maxOpen int
	all     []*clientConn // every connection opened, to close at the end
	closing bool

	outstanding atomic.Int64 // requests dispatched and not yet finished
	seq         atomic.Int64 // closed mode: next request number
	sent        atomic.Int64
	okInWindow  atomic.Int64
	ok          atomic.Int64
	errs        [numKinds]atomic.Int64
	warmupErrs  atomic.Int64
	samples     [numKinds]atomic.Pointer[string]
	conns       atomic.Int64

	wg sync.WaitGroup
}

// Run sends load to cfg.Addr as cfg says, verifying every response with
// target, and returns what it measured. It returns when the window and the
// drain that follows it are over (at most Warmup + Duration + Timeout and
// a second), or early when ctx ends (with ctx's error and a partial
// result). The connections it opens are closed and its goroutines have
// ended when it returns.
func Run(ctx context.Context, cfg Config, target Target) (*Result, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if target == nil {
		return nil, errors.New("loadgen: no target")
	}
	g := &gen{cfg: cfg, target: target, warmup: int64(cfg.Warmup),
		end: int64(cfg.Warmup + cfg.Duration), expire: int64(cfg.Timeout)}
	g.pending.init(1024)
	if cfg.Mode == Open {
		g.prepareOpen()
	}
	stop := context.AfterFunc(ctx, g.closeAll)
	defer stop()

	var cpu0 time.Duration
	g.start = time.Now()
	if cfg.Mode == Open {
		cpu0 = g.schedule(ctx)
	} else {
		cpu0 = g.startClosed(ctx)
	}
	g.drain(ctx)
	g.closeAll()
	g.wg.Wait()
	cpu := processCPU() - cpu0
	for { // requests the run ended before a connection took them
		r, ok := g.pending.pop()
		if !ok {
			break
		}
		g.fail(r, KindTimeout, errors.New("loadgen: never sent: no connection before the run ended"))
	}

	res := g.result(cpu)
	if ctx.Err() != nil {
		res.Interrupted = true
		return res, fmt.Errorf("loadgen: interrupted: %w", ctx.Err())
	}
	return res, nil
}

func (g *gen) now() int64 { return int64(time.Since(g.start)) }

func (g *gen) prepareOpen() {
	g.sched = g.cfg.schedule()
	g.first = int64(len(g.sched))
	for i, at := range g.sched {
		if at >= g.warmup {
			g.first = int64(i)
			break
		}
	}
	n := len(g.sched) - int(g.first)
	g.latency = make([]int64, n)
	g.lag = make([]int64, n)
	g.sendDelay = make([]int64, n)
	for i := range n {
		g.latency[i], g.lag[i], g.sendDelay[i] = -1, -1, -1
	}
}

// schedule dispatches every request of an open run at its time and returns
// the process CPU time at the window's start.
func (g *gen) schedule(ctx context.Context) (cpu0 time.Duration) {
	var sl sleeper
	defer sl.stop()
	cpu0 = -1
	giveUp := g.end + g.expire // past this, what is left would only time out
	for i, at := range g.sched {
		now := g.now()
		for at > now {
			if !sl.sleep(ctx, time.Duration(at-now)) {
				return g.cpuAt(cpu0)
			}
			now = g.now()
		}
		if ctx.Err() != nil || now > giveUp {
			return g.cpuAt(cpu0)
		}
		if cpu0 < 0 && at >= g.warmup {
			cpu0 = processCPU()
		}
		if idx := int64(i) - g.first; idx >= 0 {
			g.lag[idx] = now - at
		}
		g.dispatch(request{seq: int64(i), at: at})
	}
	return g.cpuAt(cpu0)
}

func (g *gen) cpuAt(cpu0 time.Duration) time.Duration {
	if cpu0 < 0 {
		return processCPU()
	}
	return cpu0
}

// dispatch hands r to an idle connection, or queues it for the next one
// free, opening another connection if the cap allows.
func (g *gen) dispatch(r request) {
	g.outstanding.Add(1)
	for {
		g.mu.Lock()
		n := len(g.idle)
		if n == 0 {
			g.pending.push(r)
			spawn := g.pending.len() > g.dialing && g.open < g.cfg.Conns && !g.closing
			if spawn {
				g.open++
				g.dialing++
				g.maxOpen = max(g.maxOpen, g.open)
			}
			g.mu.Unlock()
			if spawn {
				g.wg.Add(1)
				go g.connMain(newClientConn(g))
			}
			return
		}
		c := g.idle[n-1]
		g.idle = g.idle[:n-1]
		g.mu.Unlock()
		if err := c.send(r); err != errDead {
			return
		}
	}
}

// next returns the request connection c should send now: the oldest
// queued one (open) or a new one while the window lasts (closed). With
// none, c goes idle.
func (g *gen) next(c *clientConn) (request, bool) {
	if g.cfg.Mode == Closed {
		at := g.now()
		if at >= g.end || g.isClosing() {
			return request{}, false
		}
		g.outstanding.Add(1)
		return request{seq: g.seq.Add(1) - 1, at: at}, true
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if r, ok := g.pending.pop(); ok {
		return r, true
	}
	if !g.closing {
		g.idle = append(g.idle, c)
	}
	return request{}, false
}

func (g *gen) isClosing() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closing
}

// startClosed opens the closed run's connections, each of which starts
// sending as soon as it is up and stops at the window's end, waits for the
// window, and returns the CPU time at the window's start.
func (g *gen) startClosed(ctx context.Context) time.Duration {
	g.mu.Lock()
	g.open, g.dialing, g.maxOpen = g.cfg.Conns, g.cfg.Conns, g.cfg.Conns
	g.mu.Unlock()
	for range g.cfg.Conns {
		g.wg.Add(1)
		go g.connMain(newClientConn(g))
	}
	var sl sleeper
	defer sl.stop()
	if d := time.Duration(g.warmup - g.now()); d > 0 {
		sl.sleep(ctx, d)
	}
	cpu0 := processCPU()
	if d := time.Duration(g.end - g.now()); d > 0 {
		sl.sleep(ctx, d)
	}
	return cpu0
}

// drain waits until every dispatched request has finished, or the drain's
// bound has passed.
func (g *gen) drain(ctx context.Context) {
	bound := g.end + g.expire + int64(time.Second)
	var sl sleeper
	defer sl.stop()
	for g.outstanding.Load() > 0 && g.now() < bound && ctx.Err() == nil {
		sl.sleep(ctx, time.Millisecond)
	}
}

// closeAll closes every connection: their goroutines see the error and
// end. Requests still queued are not sent.
func (g *gen) closeAll() {
	g.mu.Lock()
	g.closing = true
	all := g.all
	g.idle = nil
	g.mu.Unlock()
	for _, c := range all {
		c.close()
	}
}

// connMain dials c, then reads its responses until it dies.
func (g *gen) connMain(c *clientConn) {
	defer g.wg.Done()
	err := c.dial()
	g.mu.Lock()
	g.dialing--
	if err != nil {
		g.open--
		r, ok := g.pending.pop()
		// Another dial for the requests still waiting, if none is under
		// way: each failed dial fails one request, so this ends.
		respawn := g.cfg.Mode == Open && g.pending.len() > g.dialing && !g.closing
		if respawn {
			g.open++
			g.dialing++
		}
		g.mu.Unlock()
		if ok {
			g.fail(r, KindConnect, err)
		}
		if respawn {
			g.wg.Add(1)
			go g.connMain(newClientConn(g))
		}
		if g.cfg.Mode == Closed {
			g.failClosed(c, KindConnect, err)
		}
		return
	}
	if g.closing {
		g.open--
		g.mu.Unlock()
		c.close()
		return
	}
	g.all = append(g.all, c)
	g.conns.Add(1)
	g.mu.Unlock()
	c.serveNext()
	c.readLoop()
	g.mu.Lock()
	g.open--
	g.mu.Unlock()
}

// failClosed handles a closed-mode connection that could not be opened: it
// records one failed request and, after a pause (a refused dial returns at
// once), tries again while the window lasts.
func (g *gen) failClosed(c *clientConn, k Kind, err error) {
	at := g.now()
	if at >= g.end {
		return
	}
	g.outstanding.Add(1)
	g.fail(request{seq: g.seq.Add(1) - 1, at: at}, k, err)
	time.Sleep(10 * time.Millisecond)
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		return
	}
	g.open++
	g.dialing++
	g.mu.Unlock()
	g.wg.Add(1)
	go g.connMain(newClientConn(g))
}

// measured reports whether r is in the window, and its sample index.
func (g *gen) measured(r request) (int64, bool) {
	if g.cfg.Mode == Closed {
		return 0, r.at >= g.warmup
	}
	idx := r.seq - g.first
	return idx, idx >= 0
}

// fail records r as failed.
func (g *gen) fail(r request, k Kind, err error) {
	defer g.outstanding.Add(-1)
	if _, ok := g.measured(r); !ok {
		g.warmupErrs.Add(1)
		return
	}
	g.errs[k].Add(1)
	if g.samples[k].Load() == nil {
		msg := err.Error()
		g.samples[k].CompareAndSwap(nil, &msg)
	}
}

// succeed records r's verified response, which arrived at end.
func (g *gen) succeed(c *clientConn, r request, end int64) {
	defer g.outstanding.Add(-1)
	idx, ok := g.measured(r)
	if !ok {
		return
	}
	g.ok.Add(1)
	if end < g.end {
		g.okInWindow.Add(1)
	}
	if g.cfg.Mode == Closed {
		c.latencies = append(c.latencies, end-r.at)
		return
	}
	g.latency[idx] = end - r.at
}

// wrote records that r was written at t.
func (g *gen) wrote(r request, t int64) {
	idx, ok := g.measured(r)
	if !ok {
		return
	}
	g.sent.Add(1)
	if g.cfg.Mode == Open {
		g.sendDelay[idx] = t - r.at
	}
}

func (g *gen) result(cpu time.Duration) *Result {
	window := g.cfg.Duration.Seconds()
	res := &Result{Config: g.cfg, Window: g.cfg.Duration, CPU: cpu, CPUScope: "process",
		Sent: g.sent.Load(), OK: g.ok.Load(), WarmupErrors: g.warmupErrs.Load(),
		AchievedRate: float64(g.okInWindow.Load()) / window, Conns: int(g.conns.Load()), MaxOpen: g.maxOpen}
	for k := range numKinds {
		if n := g.errs[k].Load(); n > 0 {
			if res.Errors == nil {
				res.Errors, res.ErrorSamples = map[string]int64{}, map[string]string{}
			}
			res.Errors[k.String()] = n
			if s := g.samples[k].Load(); s != nil {
				res.ErrorSamples[k.String()] = *s
			}
		}
	}
	if g.cfg.Mode == Closed {
		var lat []int64
		for _, c := range g.all {
			lat = append(lat, c.latencies...)
		}
		res.Scheduled = res.OK + res.Failed()
		res.Dispatched = res.Scheduled
		res.Latencies = lat
		res.Latency = summarize(lat)
	} else {
		res.OfferedRate = g.cfg.Rate
		res.Scheduled = int64(len(g.latency))
		res.Latencies = compact(g.latency)
		res.Latency = summarize(res.Latencies)
		lags := compact(g.lag)
		res.Dispatched = int64(len(lags))
		res.Lag = summarize(lags)
		res.SendDelay = summarize(compact(g.sendDelay))
		switch {
		case res.Dispatched < res.Scheduled:
			res.UnderOffered = true
			res.UnderOfferedReason = fmt.Sprintf("%d of %d requests never dispatched", res.Scheduled-res.Dispatched, res.Scheduled)
		case res.Lag.P99 > g.cfg.MaxLag:
			res.UnderOffered = true
			res.UnderOfferedReason = fmt.Sprintf("the generator ran %v behind its schedule at p99 (limit %v)", res.Lag.P99, g.cfg.MaxLag)
		}
	}
	res.DispatchedRate = float64(res.Dispatched) / window
	if n := res.OK + res.Failed(); n > 0 {
		res.CPUPerRequest = cpu / time.Duration(n)
	}
	return res
}

// compact drops the -1 markers of d in place.
func compact(d []int64) []int64 {
	out := d[:0]
	for _, v := range d {
		if v >= 0 {
			out = append(out, v)
		}
	}
	return out
}

// fifo is a queue of requests that reuses its memory.
type fifo struct {
	buf  []request
	head int
}

func (q *fifo) init(n int) { q.buf = make([]request, 0, n) }
func (q *fifo) len() int   { return len(q.buf) - q.head }
func (q *fifo) push(r request) {
	if q.head > 0 && len(q.buf) == cap(q.buf) {
		n := copy(q.buf, q.buf[q.head:])
		q.buf, q.head = q.buf[:n], 0
	}
	q.buf = append(q.buf, r)
}

func (q *fifo) pop() (request, bool) {
	if q.head == len(q.buf) {
		return request{}, false
	}
	r := q.buf[q.head]
	q.head++
	if q.head == len(q.buf) {
		q.buf, q.head = q.buf[:0], 0
	}
	return r, true
}

// dialer bounds a dial by the request timeout: a loopback connect either
// succeeds or is refused at once, so a slow one is a server whose backlog
// is full, and the request waiting for it times out anyway.
func (g *gen) dialer() *net.Dialer { return &net.Dialer{Timeout: g.cfg.Timeout} }
