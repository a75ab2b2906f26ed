package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"

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
The CONCBENCH.LATENCY command changes it while the server runs.

Fault probabilities (per GET/MGET/SET/DEL request, each in [0,1], sum <= 1):
  --reset, --stall, --partial, --drip

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
		cfg     backend.Config
		verbose bool
	)
	fs.StringVar(&cfg.Listen, "listen", "127.0.0.1:0", "`address` to listen on (port 0: any free port)")
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

	srv, err := backend.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "concbench backend: %v\n", err)
		// Bad values (probabilities out of range, ...) are usage errors;
		// a port in use is not, but the caller gets a clear message either way.
		return exitUsage
	}
	// The parent process reads this first line to learn the address.
	fmt.Fprintf(stdout, "listening on %s\n", srv.Addr())
	<-ctx.Done()
	if err := srv.Close(); err != nil {
		fmt.Fprintf(stderr, "concbench backend: %v\n", err)
	}
	st := srv.Stats()
	fmt.Fprintf(stderr, "concbench backend: %d conns (%d rejected), %d requests, %d replies, %d errors, "+
		"%d faults (%d resets, %d stalls, %d partial closes, %d slow drips)\n",
		st.Conns, st.RejectedConns, st.Requests, st.Replies, st.Errors,
		st.Faults(), st.Resets, st.Stalls, st.PartialCloses, st.SlowDrips)
	return exitOK
}
