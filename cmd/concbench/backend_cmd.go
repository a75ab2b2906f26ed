package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"

	"github.com/concbench/concbench/workloads/backend"
)

const backendUsage = `Usage: concbench backend [flags]

Runs the built-in fetch backend: a Redis-protocol (RESP2) server on loopback
whose GET key returns a value derived from the key, after an injected
latency, with optional injected faults. The first line on stdout is
"listening on HOST:PORT"; the server runs until interrupted, then prints its
counters on stderr.

Latency distributions (--latency):
  0, 1ms                    constant
  uniform:500us-2ms         uniform between the two
  exp:1ms                   exponential with that mean
  lognormal:1ms,p99=10ms    log-normal with that median and 99th percentile

Fault probabilities (per GET/MGET/SET/DEL request, each in [0,1], sum <= 1):
  --reset, --stall, --partial, --drip

Commands besides GET, MGET, SET, DEL, PING, QUIT and what clients send on
connecting (none of them delayed or faulted):
  AUTH [default] TOKEN           with --auth: required before any other command
  CONCBENCH.LATENCY [dist]       get or set the latency while the server runs
  CONCBENCH.SECRET HEX           set the secret mixed into the values (it cannot be read back)
  CONCBENCH.VALUESIZE [BYTES]    get or set the size of the values GET returns
  CONCBENCH.STATS                counters since the start (also INFO), name:value lines
  CONCBENCH.WINDOW               counters since the previous CONCBENCH.WINDOW, and start the next:
                                   data_requests (GET, MGET, SET, DEL read), gets (keys GET and MGET
                                   asked for), gets_answered, max_in_flight (most data requests read
                                   and not yet being answered, across connections), errors, faults,
                                   user_cpu_ns and system_cpu_ns (this process), duration_ns
  CONCBENCH.PROFILE START|STOP   CPU profile of this process; STOP replies with it (gzipped pprof)

Memory: replies not yet written are bounded across connections by
--max-queued (a client that does not read is slowed down, not buffered
without end), SET's store by --max-stored (-OOM past it).

Listening beyond loopback (--listen 0.0.0.0:6380) needs --auth TOKEN:
anyone who can connect can change the latency, SET and profile. Clients
send AUTH TOKEN first (redis-cli -a TOKEN, redis://:TOKEN@HOST:PORT).

On another machine, for 'concbench run' to use (fanout's instances spread
over the servers listed; the run sets each server's secret, value size and
latency over its authenticated control connection):
  otherhost$ concbench backend --listen 10.0.0.2:6380 --auth TOKEN
  concbench run --backend concbench://TOKEN@10.0.0.2:6380,10.0.0.3:6380 --workloads fanout
Place it on CPUs of its own with taskset -c CPUS concbench backend ...

--control-stdin is how 'concbench run' starts its backends: the secret
mixed into the values (and the auth token, if any) arrive on stdin as lines
"secret HEX" and "auth TOKEN" ended by a blank line, never on the command
line; the server then exits when stdin closes, so it never outlives its
parent.

Example:
  concbench backend --listen 127.0.0.1:6380 --latency uniform:0.5ms-2ms --reset 0.001
  redis-cli -p 6380 GET item:1

Flags:
`

// runBackend implements "concbench backend".
func runBackend(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg          backend.Config
		verbose      bool
		controlStdin bool
	)
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:0", "`address` to listen on (port 0: any free port); beyond loopback only with --auth")
	fs.IntVar(&cfg.ValueSize, "value-size", 64, "`bytes` of the value GET returns")
	fs.Func("latency", "injected latency `distribution` per request (default 0)", func(s string) error {
		d, err := backend.ParseDistribution(s)
		cfg.Latency = d
		return err
	})
	fs.Float64Var(&cfg.Faults.Reset, "reset", 0, "`probability` of closing the connection with a TCP reset instead of replying")
	fs.Float64Var(&cfg.Faults.Stall, "stall", 0, "`probability` of never replying on the connection again")
	fs.Float64Var(&cfg.Faults.PartialClose, "partial", 0, "`probability` of writing part of the reply, then closing")
	fs.Float64Var(&cfg.Faults.SlowDrip, "drip", 0, "`probability` of writing the reply a few bytes at a time")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "most open `connections` (0: unlimited)")
	fs.IntVar(&cfg.MaxQueuedBytes, "max-queued", backend.DefaultMaxQueuedBytes, "most `bytes` of replies held across connections before readers stop reading (backpressure)")
	fs.IntVar(&cfg.MaxStoredBytes, "max-stored", backend.DefaultMaxStoredBytes, "most `bytes` of keys and values SET may store (-OOM past it)")
	fs.StringVar(&cfg.Auth, "auth", "", "`token` clients must send with AUTH before any other command (needed beyond loopback; ps shows it: --control-stdin's auth line does not)")
	fs.BoolVar(&controlStdin, "control-stdin", false, "read the secret (and auth token) as control lines on stdin, and exit when stdin closes")
	fs.Int64Var(&cfg.Seed, "seed", 0, "`seed` of the latency and fault random numbers")
	fs.BoolVar(&verbose, "verbose", false, "log protocol errors and injected faults on stderr")
	fs.Usage = func() {
		fmt.Fprint(stderr, backendUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "concbench backend: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if verbose {
		cfg.Logf = log.New(stderr, "", log.Lmicroseconds).Printf
	}
	if controlStdin {
		r := bufio.NewReader(backendStdin)
		if err := backend.ReadChildConfig(r, &cfg); err != nil {
			fmt.Fprintf(stderr, "concbench backend: %v\n", err)
			return exitUsage
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		// Ends with the process (a pipe read cannot be interrupted), or
		// when stdin closes: the parent is gone, or wants us gone.
		go func() {
			_, _ = io.Copy(io.Discard, r)
			cancel()
		}()
	}
	loopback, err := isLoopback(ctx, cfg.Listen)
	if err != nil {
		fmt.Fprintf(stderr, "concbench backend: --listen %s: %v\n", cfg.Listen, err)
		return exitUsage
	}
	if !loopback {
		if cfg.Auth == "" {
			fmt.Fprintf(stderr, "concbench backend: --listen %s reaches beyond loopback: anyone who can connect could change the latency and SET; "+
				"give --auth TOKEN (clients then send AUTH TOKEN) or listen on 127.0.0.1\n", cfg.Listen)
			return exitUsage
		}
	}

	srv, err := backend.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "concbench backend: %v\n", err)
		// Bad values (probabilities out of range, ...) are usage errors;
		// a port in use is not, but the caller gets a clear message either way.
		return exitUsage
	}
	if !loopback {
		fmt.Fprintf(stderr, "concbench backend: warning: listening on %s, beyond loopback; clients must AUTH with the --auth token, "+
			"and anyone who has it can change the latency, SET and profile\n", srv.Addr())
	}
	// The parent process reads this first line to learn the address.
	fmt.Fprintf(stdout, "listening on %s\n", srv.Addr())
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "concbench backend: %v\n", err)
	}
	st := srv.Stats()
	fmt.Fprintf(stderr, "concbench backend: %d conns (%d rejected), %d requests, %d replies, %d errors, "+
		"%d faults (%d resets, %d stalls, %d partial closes, %d slow drips), %d gets, at most %d in flight and %d bytes of replies held, "+
		"cpu %v user + %v system\n",
		st.Conns, st.RejectedConns, st.Requests, st.Replies, st.Errors,
		st.Faults(), st.Resets, st.Stalls, st.PartialCloses, st.SlowDrips, st.Gets, st.MaxInFlight, st.PeakQueuedBytes,
		st.UserCPU, st.SystemCPU)
	return exitOK
}

// isLoopback reports whether every address the listen address binds is a
// loopback address: an empty host or an unspecified one (0.0.0.0, ::) binds
// every interface; a name is resolved.
func isLoopback(ctx context.Context, listen string) (bool, error) {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false, err
	}
	if host == "" {
		return false, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback(), nil
	}
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return false, err
	}
	for _, ip := range ips {
		if !ip.IP.IsLoopback() {
			return false, nil
		}
	}
	return len(ips) > 0, nil
}

// errBackendUsage marks a --backend value of 'concbench run' that is wrong
// in itself (exit 2), as opposed to a backend that cannot be reached or
// refuses the password (exit 3).
var errBackendUsage = errors.New("bad --backend")

// backendStdin is what runBackend reads with --control-stdin: the process's
// stdin (dispatch passes only stdout and stderr).
var backendStdin io.Reader = os.Stdin
