package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/concbench/concbench/serve"
)

const loadgenUsage = `Usage: concbench loadgen [--allow-remote] < job.json

Runs serve mode's open-loop load generator in this process and prints its
result as one JSON line on stdout (package serve/loadgen's Result: offered,
dispatched and achieved rates, latency percentiles from each request's
intended send time, errors by kind, the generator's lag, and its own CPU
time). This is how a serve cell runs its generator: in a process of its
own, so the generator's CPU is measured apart from the server's.

The job is one JSON document on stdin (serve.LoadJob):

  {"config": {"addr": "127.0.0.1:8080", "rate": 2000, "arrival": "poisson",
              "warmup_ns": 200000000, "duration_ns": 2000000000},
   "pages": 1000, "value_size": 128, "secret": 0}

config is loadgen.Config (mode open or closed, rate, arrival, seed,
warmup_ns, duration_ns, timeout_ns, conns, max_lag_ns); pages, value_size
and secret describe the backend's values, from which every response is
verified byte for byte. The run stops by itself after warm-up, window and
one timeout; SIGINT or SIGTERM stops it early, and the partial result is
still printed (exit 130).

Only loopback targets are accepted: aiming elsewhere needs --allow-remote
(the job's own "allow_remote" is not enough).

Example:
  echo '{"config":{"addr":"127.0.0.1:8080","rate":500,"duration_ns":1000000000},"pages":100,"value_size":128}' |
    concbench loadgen

Flags:
`

// runLoadgen implements "concbench loadgen".
func runLoadgen(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	allowRemote := fs.Bool("allow-remote", false, "accept a target that is not a loopback address")
	fs.Usage = func() {
		fmt.Fprint(stderr, loadgenUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "concbench loadgen: unexpected arguments %q (the job comes on stdin)\n", fs.Args())
		return exitUsage
	}
	code, err := serve.RunLoadJob(ctx, stdin, stdout, *allowRemote)
	if err != nil {
		fmt.Fprintf(stderr, "concbench loadgen: %v\n", err)
	}
	return code
}
