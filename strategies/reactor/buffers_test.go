//go:build linux

package reactor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/strategytest"
	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/workloadtest"
)

// hangTimeout is the fetch timeout of the tests here: a reply takes
// milliseconds (a dripped one tens, a megabyte through the proxy under the
// race detector a second or so), so only a request the reactor never
// finishes reaches it, and fails its task instead of hanging the test.
const hangTimeout = 20 * time.Second

// tinyBuffer is the kernel buffer the proxy asks for on its sockets (Linux
// doubles it and keeps a floor of a few KiB): far below a request or a
// reply of the tests here.
const tinyBuffer = 4096

// proxy forwards each connection it accepts to a backend through sockets
// with tiny kernel buffers (SO_RCVBUF on the side the reactor writes to,
// SO_SNDBUF on the side it reads from), copying a few KiB at a time, so
// that a large request or reply cannot pass in one write or one read.
// Real sockets and the real backend: only the buffers are small.
type proxy struct {
	ln      net.Listener
	backend string
	// hold, if set, is called with the first accepted connection before
	// anything it sent is read: until it returns, the reactor's bytes pile
	// up in the kernel buffers on their way. ctx ends when the proxy
	// closes.
	hold func(ctx context.Context, client *net.TCPConn)

	ctx   context.Context
	stop  context.CancelFunc
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []net.Conn
	first bool // the first connection was accepted
}

// startProxy starts a proxy to backendAddr; it closes when the test ends,
// with every connection and goroutine of its own.
func startProxy(t testing.TB, backendAddr string, hold func(ctx context.Context, client *net.TCPConn)) *proxy {
	t.Helper()
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		// Accepted sockets inherit the listener's receive buffer.
		err := c.Control(func(fd uintptr) { serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, tinyBuffer) })
		return errors.Join(err, serr)
	}}
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, backend: backendAddr, hold: hold}
	p.ctx, p.stop = context.WithCancel(context.Background())
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *proxy) addr() string { return p.ln.Addr().String() }

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		client := c.(*net.TCPConn)
		if err := client.SetWriteBuffer(tinyBuffer); err != nil {
			client.Close()
			continue
		}
		server, err := net.Dial("tcp", p.backend)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		hold := !p.first && p.hold != nil
		p.first = true
		p.mu.Unlock()
		p.wg.Go(func() {
			if hold {
				p.hold(p.ctx, client)
			}
			pipe(server, client)
		})
		p.wg.Go(func() { pipe(client, server) })
	}
}

// pipe copies src to dst a few KiB at a time until either side ends, then
// closes both: the reactor sees a dead backend as a closed connection.
func pipe(dst, src net.Conn) {
	buf := make([]byte, tinyBuffer)
	// The wrappers hide ReadFrom and WriteTo, which would splice in large
	// chunks.
	_, _ = io.CopyBuffer(struct{ io.Writer }{dst}, struct{ io.Reader }{src}, buf)
	dst.Close()
	src.Close()
}

func (p *proxy) close() {
	p.stop()
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// longKeys gives every fetch step of spec a key of n bytes (its old key,
// padded), so that each GET request is about n bytes long. Called before
// the backends start: StartBackends computes the reference from the keys.
func longKeys(spec *workloads.Spec, n int) {
	for i := range spec.Tasks {
		steps := slices.Clone(spec.Tasks[i].Steps)
		for j := range steps {
			if steps[j].Kind == workloads.StepFetch && !steps[j].KeyFromReply {
				k := steps[j].Key + ":"
				steps[j].Key = k + strings.Repeat("x", max(0, n-len(k)))
			}
		}
		spec.Tasks[i].Steps = steps
	}
}

// maxSendBuffer returns the largest send buffer TCP's autotuning gives a
// socket (the third field of net.ipv4.tcp_wmem), 4 MiB if unknown.
func maxSendBuffer() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/tcp_wmem")
	if err == nil {
		if f := strings.Fields(string(b)); len(f) == 3 {
			if n, err := strconv.Atoi(f[2]); err == nil {
				return n
			}
		}
	}
	return 4 << 20
}

// partialWrite watches, for a proxy's hold, the first request of a loop
// whose only connection the proxy holds: it returns nil once it has seen
// the loop's thread asleep in epoll_pwait while fewer bytes than that
// request have left the loop. The loop writes before it first waits, so at
// that moment a write had returned short (EAGAIN) and the loop was waiting
// for EPOLLOUT to go on; the proxy then starts reading, and the request
// completes only if the loop resumes on EPOLLOUT.
type partialWrite struct {
	tid     chan int // the loop's thread, from testHookLoopStart
	request int      // the bytes of the first request
	seen    chan error
}

// epollWaits are the system calls a loop sleeps in.
var epollWaits = []int{unix.SYS_EPOLL_PWAIT, unix.SYS_EPOLL_PWAIT2}

func (w *partialWrite) hold(ctx context.Context, client *net.TCPConn) {
	w.seen <- w.await(ctx, client)
}

func (w *partialWrite) await(ctx context.Context, client *net.TCPConn) error {
	var tid int
	select {
	case tid = <-w.tid:
	case <-ctx.Done():
		return ctx.Err()
	}
	raw, err := client.SyscallConn()
	if err != nil {
		return err
	}
	reactorFD := -1
	// A watchdog, not a timing assertion: it turns a reactor that never
	// fills its socket (or never sleeps) into a failure instead of a hang.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if reactorFD < 0 {
			reactorFD = socketFD(client.RemoteAddr(), client.LocalAddr())
			continue
		}
		// The order keeps the sum from undercounting: the thread sleeps
		// in epoll_pwait first; bytes only move from the reactor's send
		// queue (unacknowledged) to the proxy's receive queue (read by
		// nobody yet), so reading the send queue first can count a byte
		// twice but never miss one.
		if !slices.Contains(epollWaits, threadSyscall(tid)) {
			continue
		}
		outq, err := unix.IoctlGetInt(reactorFD, unix.SIOCOUTQ)
		if err != nil {
			return fmt.Errorf("SIOCOUTQ: %w", err)
		}
		var inq int
		if err := raw.Control(func(fd uintptr) { inq, err = unix.IoctlGetInt(int(fd), unix.SIOCINQ) }); err != nil {
			return err
		}
		if err != nil {
			return fmt.Errorf("SIOCINQ: %w", err)
		}
		if outq+inq < w.request {
			return nil
		}
	}
	return errors.New("the loop never slept with its request partly written: no write returned EAGAIN")
}

// socketFD returns this process's descriptor of the TCP socket whose local
// address is local and whose peer is peer, or -1.
func socketFD(local, peer net.Addr) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		l, err1 := unix.Getsockname(fd)
		r, err2 := unix.Getpeername(fd)
		if err1 == nil && err2 == nil && sameAddr(l, local) && sameAddr(r, peer) {
			return fd
		}
	}
	return -1
}

func sameAddr(sa unix.Sockaddr, a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	in4, ok4 := sa.(*unix.SockaddrInet4)
	return ok && ok4 && in4.Port == ta.Port && net.IP(in4.Addr[:]).Equal(ta.IP)
}

// threadSyscall returns the system call thread tid of this process is in,
// or -1 when it runs or the kernel does not say.
func threadSyscall(tid int) int {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/syscall")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return -1
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return -1
	}
	return n
}

// verifiedClipped is strategytest.Verified with the first task error
// clipped: the errors of tasks with long keys quote keys of megabytes.
func verifiedClipped(t *testing.T, job *strategies.Job) {
	t.Helper()
	if errs := job.Errors(); len(errs) > 0 {
		msg := errs[0].Err.Error()
		if len(msg) > 400 {
			msg = msg[:200] + " ... " + msg[len(msg)-200:]
		}
		t.Fatalf("%d tasks failed; task %d: %s", len(errs), errs[0].Task, msg)
	}
	strategytest.Verified(t, job)
}

// TestRequestsLargerThanTheSocketBuffers sends GETs whose keys are longer
// than any send buffer TCP gives a socket, through a proxy whose receive
// buffer is tiny: no request fits in one write. The reactor must keep what
// a short write left and finish it when EPOLLOUT says there is room. With
// one loop the test first sees a write cut short (the loop asleep in
// epoll_pwait with its request partly written) before the proxy reads a
// byte.
//
// Not parallel: it sets the package's test hook.
func TestRequestsLargerThanTheSocketBuffers(t *testing.T) {
	keyBytes := maxSendBuffer() + 1<<20
	for _, c := range []struct {
		v         params.Values
		tasks     string
		watchLoop bool // one loop, one connection: the hold watches it
	}{
		{params.Values{"conns": "1"}, "3", true},
		{params.Values{"conns": "1", "depth": "3"}, "6", true},
		{params.Values{"conns": "2", "loops": "2"}, "4", false},
	} {
		t.Run(fmt.Sprint(c.v), func(t *testing.T) {
			spec := build(t, "fanout", params.Values{"tasks": c.tasks, "backends": "1", "latency": "0s"})
			longKeys(spec, keyBytes)
			addrs, servers := workloadtest.StartBackends(t, spec, backend.Faults{})
			var hold func(context.Context, *net.TCPConn)
			w := &partialWrite{tid: make(chan int, 1), seen: make(chan error, 1),
				request: len(appendGet(nil, spec.Tasks[0].Steps[0].Key))}
			if c.watchLoop {
				testHookLoopStart = func(context.Context) { w.tid <- unix.Gettid() }
				defer func() { testHookLoopStart = nil }()
				hold = w.hold
			}
			p := startProxy(t, addrs[0], hold)
			job, err := run(t, context.Background(), spec, []string{p.addr()}, c.v, hangTimeout)
			if err != nil {
				t.Fatal(err)
			}
			if c.watchLoop {
				if err := <-w.seen; err != nil {
					t.Fatal(err)
				}
			}
			verifiedClipped(t, job)
			if got := servers[0].Stats().GetsAnswered; got != int64(len(spec.Tasks)) {
				t.Errorf("the backend answered %d GETs, want %d", got, len(spec.Tasks))
			}
		})
	}
}

// TestRepliesLargerThanTheSocketBuffers fetches 1 MiB values through a
// proxy whose send buffer is tiny: every reply reaches the reactor in many
// pieces, over many reads, and must be put together whole.
func TestRepliesLargerThanTheSocketBuffers(t *testing.T) {
	t.Parallel()
	for _, v := range []params.Values{nil, {"conns": "1", "depth": "3"}, {"loops": "2", "conns": "2"}} {
		t.Run(fmt.Sprint(v), func(t *testing.T) {
			t.Parallel()
			spec := build(t, "fanout", params.Values{"tasks": "6", "backends": "1", "latency": "0s", "size": strconv.Itoa(1 << 20)})
			addrs, _ := workloadtest.StartBackends(t, spec, backend.Faults{})
			p := startProxy(t, addrs[0], nil)
			job, err := run(t, context.Background(), spec, []string{p.addr()}, v, hangTimeout)
			if err != nil {
				t.Fatal(err)
			}
			strategytest.Verified(t, job)
		})
	}
}

// TestSlowDripRepliesComplete has the backend dribble a quarter of its
// replies a few bytes at a time (backend.Faults.SlowDrip): each reply
// spans dozens of reads, pipelined ones queue behind it, and every one must
// complete and verify. The fetch timeout (hangTimeout) is far beyond any
// drip, so a reactor that never completes a reply split across reads fails
// here: its tasks time out.
func TestSlowDripRepliesComplete(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		workload string
		v        params.Values
	}{
		{"webrequest", nil},
		{"webrequest", params.Values{"conns": "2", "depth": "4"}},
		{"fanout", params.Values{"loops": "2", "conns": "3"}},
	} {
		t.Run(c.workload+fmt.Sprint(c.v), func(t *testing.T) {
			t.Parallel()
			spec := build(t, c.workload, params.Values{"tasks": "40", "latency": "0s"})
			addrs, servers := workloadtest.StartBackends(t, spec, backend.Faults{SlowDrip: 0.25})
			job, err := run(t, context.Background(), spec, addrs, c.v, hangTimeout)
			if err != nil {
				t.Fatal(err)
			}
			strategytest.Verified(t, job)
			var drips int64
			for _, s := range servers {
				drips += s.Stats().SlowDrips
			}
			if drips < 3 {
				t.Errorf("the backend dripped %d replies: too few to test anything", drips)
			}
		})
	}
}
