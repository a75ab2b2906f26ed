package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	// Strategies in sub-packages register themselves when imported.
	_ "github.com/concbench/concbench/strategies/reactor"
	_ "github.com/concbench/concbench/strategies/simd"
)

// Exit codes, documented in doc.go and the README.
const (
	exitOK          = 0
	exitCellsFailed = 1
	exitUsage       = 2
	exitError       = 3
	exitInterrupted = 130
)

const usage = `concbench: which concurrency strategy wins on this workload, and why?

Usage:
  concbench run [flags] [NAME.PARAM=VALUE ...]   run the matrix, write out/<run-id>/
  concbench list                                  strategies, workloads, parameters
  concbench report [RUN...]                       a run's tables (default out/latest); several: a column per machine
  concbench view [RUN] [flags]                    serve pprof's web UI for a run's profiles
  concbench compare [flags] OLD NEW               gate NEW against OLD: exit 1 on a regression
  concbench backend [flags]                       serve the loopback RESP backend
  concbench serve --strategy NAME [flags]         one strategy's server model alone, for a load generator here or elsewhere
  concbench loadgen [--allow-remote] < job.json   serve mode's load generator as a child (JSON in, JSON out)
  concbench doctor [flags]                        what on this machine degrades measurements, and the cure
  concbench version                               module, revision, Go version, GOEXPERIMENT, simd path
  concbench help COMMAND                          help on one command

Examples:
  concbench run --quick
  concbench run --workloads mandelbrot,fanout --strategies blocking,pool pool.workers=4,16
  go tool benchstat -col /strategy out/latest/bench.txt

Exit codes: 0 ok, 1 some cells failed, 2 bad usage, 3 error, 130 interrupted.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return runRun(ctx, rest, stdout, stderr)
	case "list":
		return runList(rest, stdout, stderr)
	case "report":
		return runReport(rest, stdout, stderr)
	case "compare":
		return runCompare(rest, stdout, stderr)
	case "backend":
		return runBackend(ctx, rest, stdout, stderr)
	case "view":
		return runView(ctx, rest, stdout, stderr)
	case "serve":
		return runServe(ctx, rest, stdout, stderr)
	case "loadgen":
		return runLoadgen(ctx, rest, os.Stdin, stdout, stderr)
	case "doctor":
		return runDoctor(ctx, rest, stdout, stderr)
	case "version", "-version", "--version":
		return runVersion(rest, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(rest) == 1 && rest[0] != "help" {
			return dispatch(ctx, []string{rest[0], "--help"}, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "concbench: unknown command %q (valid: run, list, report, view, compare, backend, serve, loadgen, doctor, version, help)\n", cmd)
		return exitUsage
	}
}
