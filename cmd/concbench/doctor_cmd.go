package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/concbench/concbench/machinecheck"
)

const doctorUsage = `Usage: concbench doctor [flags]

Checks what on this Linux machine degrades measurements, and says what to do
about each: load from other processes, steal time on a VM, the CPU frequency
governor and turbo, usable CPUs against GOMAXPROCS (affinity, cgroup CPU
quota), memory and swap activity, transparent huge pages, the clock source,
power from a battery, and whether perf events (faults, context switches,
cycles) can be counted. It only reads /proc and /sys: it changes nothing
(pyperf's "system tune" is the model, minus the tuning). Every run prints
the one-line summary of the same checks at its start.

Flags:
`

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	interval := fs.Duration("interval", machinecheck.DefaultInterval, "how long to watch the load, steal and swap counters")
	asJSON := fs.Bool("json", false, "print the findings as JSON: {\"findings\": [{\"check\", \"status\", \"value\", \"advice\"}], \"interval_ns\"}")
	root := fs.String("root", "/", "the folder holding proc/ and sys/ (a copy of another machine's, or a test's)")
	fs.Usage = func() {
		fmt.Fprint(stderr, doctorUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "concbench doctor: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if _, err := os.Stat(*root); err != nil {
		fmt.Fprintf(stderr, "concbench doctor: --root: %v\n", err)
		return exitUsage
	}
	// A minute is far more than the counters need; longer is a typo.
	if *interval <= 0 || *interval > time.Minute {
		fmt.Fprintf(stderr, "concbench doctor: --interval %v: want more than 0 and at most 1m\n", *interval)
		return exitUsage
	}
	rep, err := machinecheck.Check(ctx, machinecheck.Options{Root: *root, Interval: *interval})
	if err != nil {
		fmt.Fprintf(stderr, "concbench doctor: %v\n", err)
		return exitInterrupted
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "concbench doctor: %v\n", err)
			return exitError
		}
		return exitOK
	}
	if err := rep.WriteText(stdout); err != nil {
		fmt.Fprintf(stderr, "concbench doctor: %v\n", err)
		return exitError
	}
	return exitOK
}
