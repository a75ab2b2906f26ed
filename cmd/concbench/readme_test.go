package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/strategies/external"
)

// TestREADMECommands runs every concbench command that README.md shows,
// in its code blocks and in inline code, against the binary built by
// TestMain, and fails when one breaks. It reads the README when it runs,
// so it follows the README's edits. Commands run with quick-sized
// parameters; how each is changed, and nothing else is:
//
//	concbench, ./bin/concbench, bin/concbench   the binary TestMain built
//	run ...        in a fresh folder, with --quick --count 2 --warmup 0
//	               --round-time 20ms --profile=false --quiet in place of any
//	               of those flags given, and sizes capped: NAME.tasks at 64,
//	               NAME.rows at 8, NAME.width at 64, NAME.pages at 20,
//	               NAME.duration at 200ms (each value of a comma list);
//	               a redis://HOST:PORT backend becomes a redis-server the
//	               test starts; py-* strategies need their Python systems
//	report, compare, list, version, help, doctor ...
//	               as shown, in a folder holding two runs of the workloads
//	               and strategies that the README's view commands name
//	               (default mandelbrot and blocking; 6 rounds, profiled),
//	               reachable as out/latest, out/RUN1 and out/RUN2, their
//	               bench.txt also as a.txt and b.txt (the README's
//	               placeholders)
//	view ...       in that folder with --http 127.0.0.1:0: started, its URL
//	               fetched (200 OK), then interrupted (exit 0)
//	backend ...    with --listen 127.0.0.1:0: started, PING answered with
//	               PONG, then interrupted (exit 0)
//
// Every command must exit 0, except compare, which may exit 1 (the README:
// "exit 0: no regression, 1: regressions"; two runs of a noisy machine may
// differ). A command this mapping cannot run as shown (a <placeholder>, a
// shell operator, a backend URL of another kind) fails the test with what
// to add here: no command is left out silently.
func TestREADMECommands(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	cmds, others := readmeCommands(string(readme))
	if len(cmds) == 0 {
		t.Fatal("README.md shows no concbench command: the extraction is broken")
	}
	for _, o := range others {
		t.Logf("not a concbench command, not run: %s", o)
	}
	fx := &readmeFixture{cmds: cmds, folder: t.TempDir()}
	seen := map[string]bool{}
	for _, c := range cmds {
		key := strings.Join(c.args, "\x00")
		if seen[key] {
			continue
		}
		seen[key] = true
		t.Run(fmt.Sprintf("line %d", c.line), func(t *testing.T) {
			t.Logf("README.md:%d: %s", c.line, c.text)
			runReadmeCommand(t, fx, c)
		})
	}
}

// readmeCommand is a concbench command as README.md shows it.
type readmeCommand struct {
	line int      // where it is
	text string   // as written
	args []string // its words after the program name
	err  error    // why it cannot be read as a command
}

var (
	readmeFence  = regexp.MustCompile("^\\s*(```|~~~)")
	readmeInline = regexp.MustCompile("`([^`\n]+)`")
)

// readmeShells are the info strings of code blocks that hold shell
// commands.
var readmeShells = []string{"sh", "bash", "shell", "console"}

// readmeCommands returns every concbench command of readme, in code blocks
// (one command a line, a trailing backslash continuing it) and in inline
// code, and the other commands of its shell code blocks.
func readmeCommands(readme string) (cmds []readmeCommand, others []string) {
	lines := strings.Split(readme, "\n")
	fenced, shell := false, false
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if m := readmeFence.FindStringSubmatchIndex(line); m != nil {
			fenced = !fenced
			info, _, _ := strings.Cut(strings.TrimSpace(line[m[1]:]), " ")
			shell = slices.Contains(readmeShells, info)
			continue
		}
		if !fenced {
			for _, m := range readmeInline.FindAllStringSubmatch(line, -1) {
				if c, ok := readmeCommandOf(i+1, m[1]); ok && len(c.args) > 0 {
					cmds = append(cmds, c)
				}
			}
			continue
		}
		start := i
		text := strings.TrimSpace(line)
		for strings.HasSuffix(text, `\`) && i+1 < len(lines) {
			i++
			text = strings.TrimSuffix(text, `\`) + " " + strings.TrimSpace(lines[i])
		}
		text = strings.TrimPrefix(text, "$ ")
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if c, ok := readmeCommandOf(start+1, text); ok {
			cmds = append(cmds, c)
		} else if shell {
			others = append(others, text)
		}
	}
	return cmds, others
}

// readmeCommandOf reads text as a concbench command.
func readmeCommandOf(line int, text string) (readmeCommand, bool) {
	words, err := readmeWords(text)
	if len(words) == 0 {
		return readmeCommand{}, false
	}
	switch words[0] {
	case "concbench", "./bin/concbench", "bin/concbench":
		return readmeCommand{line: line, text: text, args: words[1:], err: err}, true
	}
	return readmeCommand{}, false
}

// errShellSyntax is what readmeWords reports for shell syntax beyond
// words, quotes and comments.
var errShellSyntax = errors.New("shell syntax the test does not run (a pipe, a redirection, &, ;)")

// readmeWords splits a shell command line into words as sh would: single
// and double quotes, backslash escapes, a comment from an unquoted # that
// starts a word. An unquoted operator (| & ; < >) is reported as
// errShellSyntax.
func readmeWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // a word is open
		err   error
	)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			if in {
				words, in = append(words, cur.String()), false
				cur.Reset()
			}
		case c == '#' && !in:
			i = len(s)
		case c == '\'':
			in = true
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return words, errors.New("unterminated single quote")
			}
			cur.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			in = true
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return words, errors.New("unterminated double quote")
			}
		case c == '\\' && i+1 < len(s):
			in = true
			i++
			cur.WriteByte(s[i])
		case strings.IndexByte("|&;<>", c) >= 0:
			err = errShellSyntax
			if in {
				words, in = append(words, cur.String()), false
				cur.Reset()
			}
		default:
			in = true
			cur.WriteByte(c)
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words, err
}

// readmeWatchdog bounds one command: a command still running then has hung
// (a quick-sized one takes seconds), and fails instead of hanging the test.
const readmeWatchdog = 5 * time.Minute

// runReadmeCommand maps c (see TestREADMECommands) and runs it.
func runReadmeCommand(t *testing.T, fx *readmeFixture, c readmeCommand) {
	if c.err != nil {
		t.Fatalf("README.md:%d: %q: %v: add a mapping to readme_test.go", c.line, c.text, c.err)
	}
	for _, a := range c.args {
		if strings.Contains(a, "<") && strings.Contains(a, ">") {
			t.Fatalf("README.md:%d: %q: placeholder %q has no mapping in readme_test.go: add one", c.line, c.text, a)
		}
	}
	sub := ""
	if len(c.args) > 0 {
		sub = c.args[0]
	}
	switch sub {
	case "run":
		dir := t.TempDir()
		args := readmeQuickRun(t, c.args)
		readmeExpectExit(t, dir, args, exitOK)
	case "view":
		readmeServe(t, fx.dir(t), readmeWithFlag(c.args, "http", "127.0.0.1:0"), readmeCheckView)
	case "backend":
		readmeServe(t, t.TempDir(), readmeWithFlag(c.args, "listen", "127.0.0.1:0"), readmeCheckBackend)
	case "compare":
		readmeExpectExit(t, fx.dir(t), c.args, exitOK, exitRegressions)
	default: // report, list, version, help, doctor, and what comes
		readmeExpectExit(t, fx.dir(t), c.args, exitOK)
	}
}

// readmeExpectExit runs the binary with args in dir and fails unless it
// exits with one of codes.
func readmeExpectExit(t *testing.T, dir string, args []string, codes ...int) {
	t.Helper()
	t.Logf("run as: concbench %s", strings.Join(args, " "))
	ctx, cancel := context.WithTimeout(context.Background(), readmeWatchdog)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	code := 0
	var exit *exec.ExitError
	switch {
	case ctx.Err() != nil:
		t.Fatalf("still running after %v (killed): it hangs\n%s", readmeWatchdog, readmeTail(out))
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	if !slices.Contains(codes, code) {
		t.Fatalf("exit %d, want %v; output:\n%s", code, codes, readmeTail(out))
	}
}

// readmeTail is the end of a command's output, enough to see why it broke.
func readmeTail(out []byte) string {
	const most = 4000
	if len(out) > most {
		return "...\n" + string(out[len(out)-most:])
	}
	return string(out)
}

// readmeSizes caps a workload or strategy parameter's integer values.
var readmeSizes = map[string]int{"tasks": 64, "rows": 8, "width": 64, "pages": 20}

// readmeDurations caps a parameter's duration values.
var readmeDurations = map[string]time.Duration{"duration": 200 * time.Millisecond}

var readmeParam = regexp.MustCompile(`^([a-z][a-z0-9-]*)\.([a-z][a-z0-9-]*)=(.*)$`)

// readmeQuickRun maps a run command's arguments (see TestREADMECommands).
func readmeQuickRun(t *testing.T, args []string) []string {
	t.Helper()
	quick := []string{"run", "--quick", "--count", "2", "--warmup", "0", "--round-time", "20ms", "--profile=false", "--quiet"}
	replaced := map[string]bool{"quick": false, "quiet": false, "profile": false, "count": true, "warmup": true, "round-time": true}
	var rest []string
	for i := 1; i < len(args); i++ {
		a := args[i]
		if name, ok := readmeFlagName(a); ok {
			takesValue, isReplaced := replaced[name]
			if isReplaced {
				if takesValue && !strings.Contains(a, "=") {
					i++ // its value
				}
				continue
			}
			if name == "strategies" {
				readmeNeedStrategies(t, readmeFlagValue(args, &i))
				rest = append(rest, a, args[i])
				continue
			}
			if name == "backend" {
				v := readmeFlagValue(args, &i)
				rest = append(rest, "--backend", readmeBackend(t, v))
				continue
			}
			rest = append(rest, a)
			continue
		}
		if m := readmeParam.FindStringSubmatch(a); m != nil {
			a = m[1] + "." + m[2] + "=" + readmeCap(m[2], m[3])
		}
		rest = append(rest, a)
	}
	return append(quick, rest...)
}

// readmeFlagName returns the name of flag argument a ("-x", "--x", "--x=v").
func readmeFlagName(a string) (string, bool) {
	if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
		return "", false
	}
	name := strings.TrimLeft(a, "-")
	name, _, _ = strings.Cut(name, "=")
	return name, true
}

// readmeFlagValue returns the value of the flag at args[*i], given as
// --x=v or as --x v (then moving *i to it).
func readmeFlagValue(args []string, i *int) string {
	if _, v, ok := strings.Cut(args[*i], "="); ok && strings.HasPrefix(args[*i], "-") {
		return v
	}
	if *i+1 < len(args) {
		*i++
		return args[*i]
	}
	return ""
}

// readmeCap caps each value of a comma list for parameter name.
func readmeCap(name, values string) string {
	vs := strings.Split(values, ",")
	for i, v := range vs {
		if most, ok := readmeSizes[name]; ok {
			if n, err := strconv.Atoi(v); err == nil && n > most {
				vs[i] = strconv.Itoa(most)
			}
		}
		if most, ok := readmeDurations[name]; ok {
			if d, err := time.ParseDuration(v); err == nil && d > most {
				vs[i] = most.String()
			}
		}
	}
	return strings.Join(slices.Compact(vs), ",")
}

// readmeNeedStrategies ends the test with testenv.Need when a named
// strategy cannot run here for want of its Python system.
func readmeNeedStrategies(t *testing.T, list string) {
	t.Helper()
	for _, name := range strings.Split(list, ",") {
		name, _, _ = strings.Cut(name, "(")
		def, err := strategies.Lookup(name)
		if err != nil {
			continue // the command's own error is the test's
		}
		if err := def.CheckAvailable(); err != nil && strings.HasPrefix(name, "py-") {
			testenv.Need(t, err.Error(), external.InstallCommand)
		}
	}
}

// readmeBackend maps a run's --backend: a redis:// URL is pointed at a
// redis-server the test starts; builtin and inprocess stay.
func readmeBackend(t *testing.T, v string) string {
	t.Helper()
	switch {
	case v == "builtin" || v == "inprocess":
		return v
	case strings.HasPrefix(v, "redis://"):
		u, err := url.Parse(v)
		if err != nil || u.User != nil || strings.Contains(u.Host, ",") {
			t.Fatalf("--backend %s: only redis://HOST:PORT has a mapping in readme_test.go: add one", v)
		}
		u.Host = readmeRedis(t)
		return u.String()
	}
	t.Fatalf("--backend %s has no mapping in readme_test.go: add one", v)
	return ""
}

// readmeRedis starts a redis-server on a free loopback port for the test
// and returns its address.
func readmeRedis(t *testing.T) string {
	t.Helper()
	path := testenv.LookPath(t, "redis-server", "apt-get install -y redis-server")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	ln.Close()
	redis := exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := redis.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = redis.Process.Kill()
		_ = redis.Wait()
	})
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if readmePing(addr) == nil {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server on %s does not answer PING a minute later", addr)
		}
	}
}

// readmePing sends a RESP PING to addr and checks the PONG.
func readmePing(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// readmeWithFlag returns args with flag name set to v: in place where
// given, else added after the subcommand.
func readmeWithFlag(args []string, name, v string) []string {
	out := []string{args[0], "--" + name, v}
	for i := 1; i < len(args); i++ {
		if n, ok := readmeFlagName(args[i]); ok && n == name {
			if !strings.Contains(args[i], "=") {
				i++
			}
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// readmeServe starts a server command in dir, hands check its first line
// of output, then interrupts it and expects exit 0.
func readmeServe(t *testing.T, dir string, args []string, check func(t *testing.T, first string)) {
	t.Helper()
	t.Logf("run as: concbench %s", strings.Join(args, " "))
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		first, _ := r.ReadString('\n')
		lines <- strings.TrimSpace(first)
		_, _ = io.Copy(io.Discard, r)
		exited <- cmd.Wait()
	}()
	defer func() { // never leave it running
		_ = cmd.Process.Kill()
	}()
	select {
	case first := <-lines:
		if first == "" {
			t.Fatalf("no first line on stdout; stderr:\n%s", stderr.String())
		}
		check(t, first)
	case <-time.After(readmeWatchdog):
		t.Fatalf("no first line after %v: it hangs; stderr:\n%s", readmeWatchdog, stderr.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("interrupted: %v, want exit 0; stderr:\n%s", err, stderr.String())
		}
	case <-time.After(readmeWatchdog):
		t.Fatalf("still running %v after an interrupt; stderr:\n%s", readmeWatchdog, stderr.String())
	}
}

// readmeCheckView fetches the URL view prints.
func readmeCheckView(t *testing.T, first string) {
	t.Helper()
	if !strings.HasPrefix(first, "http://127.0.0.1:") {
		t.Fatalf("first line %q is not a URL on 127.0.0.1", first)
	}
	client := &http.Client{Transport: &http.Transport{}, Timeout: time.Minute}
	defer client.CloseIdleConnections()
	resp, err := client.Get(first)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", first, resp.Status)
	}
}

// readmeCheckBackend pings the backend at the address it prints.
func readmeCheckBackend(t *testing.T, first string) {
	t.Helper()
	addr, ok := strings.CutPrefix(first, "listening on ")
	if !ok {
		t.Fatalf("first line %q does not say where it listens", first)
	}
	if err := readmePing(addr); err != nil {
		t.Fatal(err)
	}
}

// readmeFixture is the folder the commands that read runs work in, its
// runs made on first use.
type readmeFixture struct {
	cmds   []readmeCommand
	folder string
	made   bool // the runs are there
	tried  bool // making them was attempted
}

// dir returns the fixture's folder, making its runs first: two quick runs
// of the workloads and strategies the README's view commands name.
func (fx *readmeFixture) dir(t *testing.T) string {
	t.Helper()
	if fx.made {
		return fx.folder
	}
	if fx.tried {
		t.Fatal("the runs the command reads could not be made: see the first subtest that needed them")
	}
	fx.tried = true
	wl, st := []string{"mandelbrot"}, []string{"blocking"}
	add := func(list []string, v string) []string {
		if v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
		return list
	}
	for _, c := range fx.cmds {
		if len(c.args) == 0 || c.args[0] != "view" {
			continue
		}
		for i := 1; i < len(c.args); i++ {
			name, ok := readmeFlagName(c.args[i])
			if !ok {
				continue
			}
			switch name {
			case "workload":
				wl = add(wl, readmeFlagValue(c.args, &i))
			case "strategy", "diff-base":
				v, _, _ := strings.Cut(readmeFlagValue(c.args, &i), "(")
				if _, err := strategies.Lookup(v); err == nil {
					st = add(st, v)
				}
			}
		}
	}
	dir := fx.folder
	// Six rounds: compare needs at least four a side to judge.
	args := []string{"run", "--quick", "--count", "6", "--warmup", "0", "--round-time", "20ms", "--quiet",
		"--workloads", strings.Join(wl, ","), "--strategies", strings.Join(st, ",")}
	for _, run := range []string{"RUN1", "RUN2"} {
		before, _ := filepath.Glob(filepath.Join(dir, "out", "*"))
		readmeExpectExit(t, dir, args, exitOK)
		after, _ := filepath.Glob(filepath.Join(dir, "out", "*"))
		var made string
		for _, p := range after {
			if !slices.Contains(before, p) && filepath.Base(p) != "latest" {
				made = p
			}
		}
		if made == "" {
			t.Fatalf("the fixture's run made no run folder in %s", dir)
		}
		if err := os.Symlink(filepath.Base(made), filepath.Join(dir, "out", run)); err != nil {
			t.Fatal(err)
		}
		bench, err := os.ReadFile(filepath.Join(made, "bench.txt"))
		if err != nil {
			t.Fatal(err)
		}
		name := map[string]string{"RUN1": "a.txt", "RUN2": "b.txt"}[run]
		if err := os.WriteFile(filepath.Join(dir, name), bench, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fx.made = true
	return dir
}

// TestReadmeExtraction checks what TestREADMECommands reads from a README
// and how it maps a run: commands in shell blocks (comments, quotes,
// continued lines) and in inline code, other commands only noted, shell
// syntax kept as an error to report.
func TestReadmeExtraction(t *testing.T) {
	t.Parallel()
	readme := "Run `concbench list` first; `concbench` alone is a name.\n" +
		"```sh\n" +
		"./bin/concbench run --workloads fanout \\\n" +
		"    fanout.tasks=10000 'mixed.cpu=0,50us'   # a comment\n" +
		"make test\n" +
		"concbench report | head\n" +
		"```\n" +
		"```\n" +
		"cmd/concbench/   the CLI\n" +
		"```\n"
	cmds, others := readmeCommands(readme)
	type got struct {
		line int
		args string
		err  bool
	}
	var g []got
	for _, c := range cmds {
		g = append(g, got{c.line, strings.Join(c.args, "|"), c.err != nil})
	}
	want := []got{
		{1, "list", false},
		{3, "run|--workloads|fanout|fanout.tasks=10000|mixed.cpu=0,50us", false},
		{6, "report|head", true}, // the pipe is the error
	}
	if !slices.Equal(g, want) {
		t.Errorf("commands %+v, want %+v", g, want)
	}
	if !slices.Equal(others, []string{"make test"}) {
		t.Errorf("other commands %q, want only make test", others)
	}
	run := readmeQuickRun(t, []string{"run", "--count=10", "--warmup", "3", "--profile", "--workloads", "fanout",
		"fanout.tasks=10,10000", "mandelbrot.rows=512", "fanout.latency=1ms", "serve.duration=2s"})
	if got, want := strings.Join(run, " "), "run --quick --count 2 --warmup 0 --round-time 20ms --profile=false --quiet "+
		"--workloads fanout fanout.tasks=10,64 mandelbrot.rows=8 fanout.latency=1ms serve.duration=200ms"; got != want {
		t.Errorf("mapped run:\n%s\nwant\n%s", got, want)
	}
}
