package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/strategies"
	// The Go ecosystem's servers (net/http, gnet, fasthttp) register as
	// serve-only strategies when imported.
	_ "github.com/concbench/concbench/strategies/ecosystem"
	"github.com/concbench/concbench/strategies/external"
	"github.com/concbench/concbench/workloads"
)

func runList(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: concbench list [--python PATH]

Lists every strategy (whether it can run here, and whether it serves: has a
web server model for the serve workload) and every workload, with their
parameters, defaults and the values make bench sweeps. Set a parameter on
the run command line as NAME.PARAM=VALUE, e.g. pool.workers=8 or
mixed.cpu=0,50us,500us (a comma list is a sweep). Parameters marked "serve
only" configure a strategy's server model and apply to serve cells alone.

The serve workload runs only when named (--workloads serve): each strategy
that serves becomes the web server of GET /page/{id} under open-loop load
from a load generator process, at serve.rate requests a second. Strategies
marked "serve only" (the Go ecosystem's servers) run in serve cells and
nowhere else.

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
		serves, serveParams := serving(d)
		if serves != "" {
			status += "; " + serves
		}
		if d.OptIn {
			status += "; opt-in: runs only when named with --strategies"
		}
		fmt.Fprintf(stdout, "  %-12s %s [%s]\n", d.Name, d.Summary, status)
		printParams(stdout, d.Name, d.Params, nil, "", "")
		printParams(stdout, d.Name, serveParams, nil, "", "serve only")
	}
	fmt.Fprintln(stdout, "\nWORKLOADS")
	for _, d := range workloads.All() {
		sweeps := "make bench sweeps"
		if d.Class == workloads.ClassServe {
			sweeps = "--workloads serve sweeps"
		}
		fmt.Fprintf(stdout, "  %-12s (%s) %s\n", d.Name, d.Class, d.Summary)
		printParams(stdout, d.Name, d.Params, d.Matrix, sweeps, "")
	}
	return exitOK
}

// serving says whether strategy d serves in serve cells, as list shows it,
// with its server model's serve-only parameters. It says nothing of a
// strategy that cannot run here, whose instance it cannot make.
func serving(d *strategies.Definition) (string, []params.Spec) {
	if d.CheckAvailable() != nil {
		return "", nil
	}
	s, _, err := d.New(nil)
	if err != nil {
		return "", nil
	}
	srv, ok := s.(serve.Server)
	if !ok {
		return "no server model: not in serve cells", nil
	}
	status := "serves"
	if d.ServeOnly {
		status = "serve only: runs in serve cells and nowhere else"
	}
	if l, ok := srv.(serve.ConnLimit); ok {
		switch n := l.MaxConns(); {
		case n == 1:
			status += " (one connection at a time)"
		case n > 1:
			status += fmt.Sprintf(" (at most %d connections at once)", n)
		}
	}
	var specs []params.Spec
	if t, ok := srv.(serve.Tunable); ok {
		specs = t.ServeParams()
	}
	return status, specs
}

// printParams lists the parameters specs of owner, one a line: after the
// default, the values matrix sweeps (as "make bench sweeps 0s, 1ms", when
// sweeps says so), and tag when it is not empty.
func printParams(w io.Writer, owner string, specs []params.Spec, matrix params.Values, sweeps, tag string) {
	for _, p := range specs {
		extra := ""
		if v, ok := matrix[p.Name]; ok {
			extra = "; " + sweeps + " " + strings.ReplaceAll(v, ",", ", ")
		}
		if tag != "" {
			extra += "; " + tag
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
