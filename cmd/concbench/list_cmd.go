package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/external"
	"github.com/concbench/concbench/workloads"
)

func runList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: concbench list [--python PATH]

Lists every strategy (and whether it can run here) and every workload, with
their parameters, defaults and the values make bench sweeps. Set a parameter
on the run command line as NAME.PARAM=VALUE, e.g. pool.workers=8 or
mixed.cpu=0,50us,500us (a comma list is a sweep).

Each available Python strategy (py-*) shows the interpreter it would run on:
the one --python or $CONCBENCH_PYTHON names, else the first python3 on PATH
that imports its module (one that also imports numpy first), else
/usr/bin/python3.

Flags:
`)
		fs.PrintDefaults()
	}
	python := fs.String("python", "", "list the Python strategies as run --python PATH would run them")
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "concbench list: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	if *python != "" {
		if err := external.SetPython(*python); err != nil {
			fmt.Fprintf(stderr, "concbench list: --python: %v\n", err)
			return exitUsage
		}
	}
	fmt.Fprintln(stdout, "STRATEGIES")
	for _, d := range strategies.All() {
		status := "available"
		if err := d.CheckAvailable(); err != nil {
			status = "unavailable: " + err.Error()
		} else if py, err := external.PythonOf(d.Name); err == nil {
			status += "; python " + py.String()
		}
		if d.OptIn {
			status += "; opt-in: runs only when named with --strategies"
		}
		fmt.Fprintf(stdout, "  %-12s %s [%s]\n", d.Name, d.Summary, status)
		printParams(stdout, d.Name, d.Params, nil)
	}
	fmt.Fprintln(stdout, "\nWORKLOADS")
	for _, d := range workloads.All() {
		fmt.Fprintf(stdout, "  %-12s (%s) %s\n", d.Name, d.Class, d.Summary)
		printParams(stdout, d.Name, d.Params, d.Matrix)
	}
	return exitOK
}

func printParams(w io.Writer, owner string, specs []params.Spec, matrix params.Values) {
	for _, p := range specs {
		extra := ""
		if v, ok := matrix[p.Name]; ok {
			extra = "; make bench sweeps " + strings.ReplaceAll(v, ",", ", ")
		}
		fmt.Fprintf(w, "      %s.%s=%s\t%s (default %s%s)\n", owner, p.Name, p.Default, p.Meaning(), p.DefaultNote(), extra)
	}
}

// flagExit maps a flag parse error to an exit code: --help is success.
func flagExit(err error) int {
	if err == flag.ErrHelp {
		return exitOK
	}
	return exitUsage
}
