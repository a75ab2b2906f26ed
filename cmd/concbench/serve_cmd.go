package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/concbench/concbench/harness"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/strategies/external"
	"github.com/concbench/concbench/workloads"
)

const serveUsage = `Usage: concbench serve --strategy NAME [flags] [NAME.PARAM=VALUE ...]

Runs one strategy's server model alone, as a serve cell runs it, until
interrupted: GET /page/{id} for ids 0 to serve.pages-1, each page looked up
in the backend (the session, then the user record it names) and rendered.
Go strategies serve in this process, py-* ones in a child process; the
backend is the one a run would use (--backend: by default the built-in
backend in a child process). Aim 'concbench loadgen' at it, here or from
another machine: every response is verified against this server's backend.

Once the server has answered page 0 correctly it prints "listening on
HOST:PORT" on stderr, then the load generator's job (serve.LoadJob, one JSON
line) on stdout, or into --job FILE. The job carries the backend's secret,
which the generator needs to verify the pages: keep it as private as the
backend. Its load is the serve parameters' (serve.rate, serve.arrival,
serve.duration after a warm-up of a quarter of it, a request timeout of
ten times serve.slo, serve.conns), as a serve cell offers them; edit it
freely. SIGINT or SIGTERM stops the server and the backend's children,
and the command exits 0.

NAME.PARAM=VALUE sets a serve workload parameter (serve.latency=1ms,
serve.pages=100, ...) or one of the strategy's (reactor.loops=2,
simd.window=1ms), one value each. See 'concbench list'.

Listening beyond loopback (--listen 0.0.0.0:8080, another interface's
address) needs --allow-remote: anyone who can connect can load the server,
and through it the backend. The job then names the address listened on;
for 0.0.0.0 or ::, put the address the generator's machine reaches this
one by in its config.addr. The generator needs --allow-remote too.

Examples:
  concbench serve --strategy reactor reactor.loops=2 serve.latency=1ms
  concbench serve --strategy goroutines --listen 127.0.0.1:0 --job job.json &
  concbench loadgen < job.json

  # from another machine:
  serverhost$ concbench serve --strategy reactor --listen 10.0.0.2:8080 --allow-remote --job job.json
  clienthost$ concbench loadgen --allow-remote < job.json

Flags:
`

// runServe implements "concbench serve".
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var (
		strategy, listen, jobFile string
		backendSpec, python       string
		allowRemote               bool
		fetchTimeout              time.Duration
	)
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&strategy, "strategy", "", "`name` of the strategy whose server model serves (required; see 'concbench list')")
	fs.StringVar(&listen, "listen", harness.DefaultServerListen, "`address` to listen on (port 0: any free port); beyond loopback only with --allow-remote")
	fs.BoolVar(&allowRemote, "allow-remote", false, "allow a --listen address beyond loopback")
	fs.StringVar(&jobFile, "job", "", "write the load generator's job to `file` (mode 0600: it holds the backend's secret) instead of stdout")
	fs.StringVar(&backendSpec, "backend", "builtin", "backend, as for 'concbench run': builtin (a child process), inprocess, "+
		"redis://[USER:PASSWORD@]HOST:PORT (latency=0s) or concbench://[TOKEN@]HOST:PORT ('concbench backend' elsewhere); "+
		"the pages' lookups go to the first server listed")
	fs.StringVar(&python, "python", "", "interpreter of the py-* strategies (default: $CONCBENCH_PYTHON, else the first python3 on PATH "+
		"that imports their modules, else /usr/bin/python3)")
	fs.DurationVar(&fetchTimeout, "fetch-timeout", harness.DefaultFetchTimeout, "limit for one backend lookup; past it the page answers 502")
	fs.Usage = func() {
		fmt.Fprint(stderr, serveUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	usageErr := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "concbench serve: "+format+"\n", a...)
		return exitUsage
	}
	if strategy == "" {
		return usageErr("--strategy is required: the strategy whose server model serves (see 'concbench list')")
	}
	if fetchTimeout <= 0 {
		return usageErr("--fetch-timeout must be positive (got %v)", fetchTimeout)
	}
	if python != "" {
		if err := external.SetPython(python); err != nil {
			return usageErr("--python: %v", err)
		}
	}
	sel, err := selection(runFlags{workloads: workloads.ServeWorkload, strategies: strategy}, fs.Args())
	if err != nil {
		return usageErr("%v", err)
	}
	if err := onlyServeParams(sel, strategy); err != nil {
		return usageErr("%v", err)
	}
	if err := harness.CheckListen(ctx, listen, allowRemote); err != nil {
		var dns *net.DNSError
		if errors.As(err, &dns) {
			fmt.Fprintf(stderr, "concbench serve: %v\n", err)
			return exitError
		}
		if errors.Is(err, harness.ErrRemoteListen) {
			return usageErr("--listen %s reaches beyond loopback: anyone who can connect could load the server, and through it the backend; "+
				"give --allow-remote to mean it, or listen on 127.0.0.1", listen)
		}
		return usageErr("%v", err)
	}

	provider, err := backendProvider(backendSpec, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "concbench serve: %v\n", err)
		if errors.Is(err, errBackendUsage) {
			return exitUsage
		}
		return exitError
	}
	defer provider.Close()
	if _, ok := provider.(*harness.RedisBackend); ok {
		if err := withoutLatency(&sel); err != nil {
			return usageErr("%v", err)
		}
		fmt.Fprintln(stderr, "backend: a real Redis cannot inject latency; the pages' lookups run with latency=0s")
	}

	srv, err := harness.StartServer(ctx, harness.ServerOptions{Strategy: strategy, StrategyParams: sel.StrategyParams[strategy],
		ServeParams: sel.WorkloadParams[workloads.ServeWorkload], Listen: listen, AllowRemote: allowRemote,
		Backends: provider, FetchTimeout: fetchTimeout, Logf: lineLogger(stderr)})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "interrupted")
		return exitInterrupted
	case isUsageError(err) || errors.Is(err, serve.ErrCannotServe) || errors.Is(err, harness.ErrRemoteListen):
		return usageErr("%v", err)
	default:
		fmt.Fprintf(stderr, "concbench serve: %v\n", err)
		return exitError
	}
	code := announceServer(srv, provider, jobFile, allowRemote, stdout, stderr)
	byItself := false
	if code == exitOK {
		select {
		case <-ctx.Done():
		case <-srv.Done():
			byItself = ctx.Err() == nil
		}
	}
	serveErr := srv.Close()
	backendErr := provider.Close() // the backend's children, stopped and reaped
	switch {
	case byItself:
		fmt.Fprintf(stderr, "concbench serve: the server stopped serving by itself: %v\n", serveErr)
		return exitError
	case serveErr != nil:
		fmt.Fprintf(stderr, "concbench serve: %v\n", serveErr)
		return exitError
	case backendErr != nil:
		fmt.Fprintf(stderr, "concbench serve: backend: %v\n", backendErr)
		return exitError
	case code == exitOK:
		fmt.Fprintln(stderr, "concbench serve: stopped")
	}
	return code
}

// announceServer says what serves where on stderr, "listening on ADDR"
// among it, and writes the load job (to jobFile, or to stdout as one line).
func announceServer(srv *harness.RunningServer, provider harness.BackendProvider, jobFile string, allowRemote bool,
	stdout, stderr io.Writer) int {
	job := srv.LoadJob()
	line, err := json.Marshal(job)
	if err != nil {
		fmt.Fprintf(stderr, "concbench serve: encode the load job: %v\n", err)
		return exitError
	}
	line = append(line, '\n')
	if jobFile != "" {
		if err := writePrivate(jobFile, line); err != nil {
			fmt.Fprintf(stderr, "concbench serve: --job: %v\n", err)
			return exitError
		}
	}
	fmt.Fprintf(stderr, "concbench serve: %s serving GET /page/{0..%d}, values of %d bytes, backend %s at %s\n",
		srv.Strategy(), job.Pages-1, job.ValueSize, provider.Describe(), strings.Join(srv.Backends(), ","))
	if allowRemote {
		if host, _, _ := net.SplitHostPort(srv.Addr()); net.ParseIP(host).IsUnspecified() {
			fmt.Fprintf(stderr, "concbench serve: warning: listening on every interface; the job's config.addr says %s: "+
				"give the generator this machine's address as it reaches it\n", srv.Addr())
		} else if !net.ParseIP(host).IsLoopback() {
			fmt.Fprintf(stderr, "concbench serve: warning: listening on %s, beyond loopback: anyone who can connect can load the server\n", srv.Addr())
		}
	}
	fmt.Fprintf(stderr, "listening on %s\n", srv.Addr())
	if jobFile != "" {
		aim := "concbench loadgen"
		if host, _, _ := net.SplitHostPort(srv.Addr()); !net.ParseIP(host).IsLoopback() {
			aim += " --allow-remote"
		}
		fmt.Fprintf(stderr, "load job (with the backend's secret): %s; aim with: %s < %s\n", jobFile, aim, jobFile)
		return exitOK
	}
	if _, err := stdout.Write(line); err != nil {
		fmt.Fprintf(stderr, "concbench serve: write the load job: %v\n", err)
		return exitError
	}
	return exitOK
}

// writePrivate writes data to path, readable by its owner only: written
// to a temporary file beside it, then renamed over it, so a reader never
// sees half a job.
func writePrivate(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // a stale tmp kept its mode
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// onlyServeParams refuses parameters of other workloads or strategies:
// the server serves the serve workload with strategy, nothing else.
func onlyServeParams(sel harness.Selection, strategy string) error {
	for name, v := range sel.WorkloadParams {
		if name != workloads.ServeWorkload {
			return fmt.Errorf("%s.%s: %w: only %s.PARAM and %s.PARAM apply to the server", name, firstName(v), params.ErrInvalid,
				workloads.ServeWorkload, strategy)
		}
	}
	for name, v := range sel.StrategyParams {
		if name != strategy {
			return fmt.Errorf("%s.%s: %w: the server is --strategy %s; only %s.PARAM and %s.PARAM apply", name, firstName(v), params.ErrInvalid,
				strategy, workloads.ServeWorkload, strategy)
		}
	}
	return nil
}

// firstName is the first of v's parameter names, for a message.
func firstName(v params.Values) string {
	if names := slices.Sorted(maps.Keys(v)); len(names) > 0 {
		return names[0]
	}
	return ""
}

// lineLogger returns a Logf that writes each diagnostic as one line on
// w: servers log from any goroutine.
func lineLogger(w io.Writer) func(string, ...any) {
	var mu sync.Mutex
	return func(format string, args ...any) {
		line := strings.TrimRight(fmt.Sprintf(format, args...), "\n") + "\n"
		mu.Lock()
		defer mu.Unlock()
		_, _ = io.WriteString(w, line)
	}
}
