package external

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// DebianPython is Debian's interpreter, the last one the Python strategies
// try: Debian's packages (python3-gevent, ...) install into
// /usr/lib/python3/dist-packages, which only it sees.
const DebianPython = "/usr/bin/python3"

// EnvPython names the environment variable that picks the interpreter of
// the Python strategies, as the run command's --python flag does (the flag
// wins).
const EnvPython = "CONCBENCH_PYTHON"

// DebianPackages are the Debian packages of every Python strategy; the
// install command for all of them is InstallCommand.
var DebianPackages = []string{"python3-numpy", "python3-gevent", "python3-uvloop", "python3-tornado", "python3-twisted"}

// InstallCommand installs every Python strategy's dependencies on Debian.
var InstallCommand = "apt-get install -y " + strings.Join(DebianPackages, " ")

// PipInstallCommand installs every Python strategy's dependencies into
// the interpreter that runs it (a virtualenv's, pyenv's): PYTHON stands
// for that interpreter.
var PipInstallCommand = "PYTHON -m pip install numpy gevent uvloop tornado twisted"

//go:embed python/*.py
var pythonFiles embed.FS

// pythonSystem is one Python strategy: a script in python/ and what it
// needs.
type pythonSystem struct {
	name, summary string
	script        string // file in python/
	module        string // the module whose import proves the system is installed
	pkg           string // the Debian package providing module; "" for the standard library
	pip           string // the pip package providing module
	param         *params.Spec
	// conc is the model's overlap given the resolved concurrency parameter.
	// Every Python strategy runs its Python code under the GIL: one core.
	conc func(n int) (cores, inFlight int)
}

func oneCore(n int) (int, int) { return 1, n }

// defaultWorkers mirrors the Go pool's default: 4×GOMAXPROCS.
func defaultWorkers() int { return 4 * runtime.GOMAXPROCS(0) }

func connsParam() *params.Spec {
	// 256 connections, as the goroutines strategy: the in-flight level of
	// the I/O workloads.
	p := params.Int("conns", 256, 1, 1<<14, "connections in the pool: fetches in flight at most")
	return &p
}

var pythonSystems = []pythonSystem{
	{name: "py-blocking", summary: "Python, one task after another, blocking sockets", script: "py_blocking.py",
		module: "socket", conc: func(int) (int, int) { return 1, 1 }},
	{name: "py-threads", summary: "Python, a threading.Thread per task, at most max at once (GIL: one core)", script: "py_threads.py",
		module: "threading", conc: oneCore, param: func() *params.Spec {
			// 256 as the Go threads strategy.
			p := params.Int("max", 256, 1, 1<<14, "threads alive at once (and connections in the pool)")
			return &p
		}()},
	{name: "py-pool", summary: "Python, concurrent.futures.ThreadPoolExecutor, a connection set per worker", script: "py_pool.py",
		module: "concurrent.futures", conc: oneCore, param: func() *params.Spec {
			p := params.Int("workers", 0, 0, 1<<14, "workers (0: 4×GOMAXPROCS, as the Go pool)")
			return &p
		}()},
	{name: "py-asyncio", summary: "Python asyncio: a coroutine per task, streams, one event loop", script: "py_asyncio.py",
		module: "asyncio", conc: oneCore, param: connsParam()},
	{name: "py-uvloop", summary: "Python asyncio on uvloop (libuv)", script: "py_uvloop.py",
		module: "uvloop", pkg: "python3-uvloop", pip: "uvloop", conc: oneCore, param: connsParam()},
	{name: "py-gevent", summary: "Python gevent: monkey-patched sockets, a greenlet per task from a pool", script: "py_gevent.py",
		module: "gevent", pkg: "python3-gevent", pip: "gevent", conc: oneCore, param: connsParam()},
	{name: "py-tornado", summary: "Python Tornado: coroutines on the IOLoop, IOStream connections", script: "py_tornado.py",
		module: "tornado.iostream", pkg: "python3-tornado", pip: "tornado", conc: oneCore, param: connsParam()},
	{name: "py-twisted", summary: "Python Twisted: a Protocol with Deferreds on the reactor", script: "py_twisted.py",
		module: "twisted.internet", pkg: "python3-twisted", pip: "twisted", conc: oneCore, param: connsParam()},
}

// ErrStackless is why py-stackless is never available.
var ErrStackless = fmt.Errorf("stackless Python is not packaged by Debian nor by any registry this project can reach; " +
	"its tasklet model is measured by the goroutines strategy and by py-gevent (greenlets come from Stackless)")

func init() {
	for _, sys := range pythonSystems {
		strategies.Register(sys.definition())
	}
	strategies.Register(&strategies.Definition{
		Name:      "py-stackless",
		Summary:   "Stackless Python tasklets (never available: no package)",
		OptIn:     true,
		Available: func() error { return ErrStackless },
		Make: func(params.Set) (strategies.Strategy, error) {
			return nil, ErrStackless
		},
	})
}

func (sys pythonSystem) definition() *strategies.Definition {
	d := &strategies.Definition{
		Name:    sys.name,
		Summary: sys.summary,
		OptIn:   true,
		// Each interpreter is asked once per process (see probeOnce); the
		// choice among them follows --python, $CONCBENCH_PYTHON and PATH.
		Available: func() error {
			_, err := currentSearch().forModule(sys)
			return err
		},
		Make: func(p params.Set) (strategies.Strategy, error) {
			py, err := currentSearch().forModule(sys)
			if err != nil {
				return nil, err
			}
			n := 1
			prm := map[string]string{}
			if sys.param != nil {
				n = p.Int(sys.param.Name)
				if n == 0 && sys.param.Name == "workers" {
					n = defaultWorkers()
				}
				prm[sys.param.Name] = fmt.Sprint(n)
			}
			cores, inFlight := sys.conc(n)
			return &pythonStrategy{script: sys.script, python: py.Path, program: Program{Name: sys.name, Params: prm, Cores: cores, InFlight: inFlight,
				Repeats: true}}, nil
		},
	}
	if sys.param != nil {
		d.Params = []params.Spec{*sys.param}
	}
	return d
}

// pythonStrategy runs one of the scripts of python/ with the interpreter
// chosen for it.
type pythonStrategy struct {
	script  string
	python  string // the interpreter's path, absolute
	program Program
}

func (s *pythonStrategy) Concurrency(spec *workloads.Spec) strategies.Concurrency {
	return s.program.Concurrency(spec)
}

// Run writes the scripts to a fresh directory (before the timed region:
// the harness's clock starts at the child's ready line) and runs the
// strategy's script there.
func (s *pythonStrategy) Run(ctx context.Context, job *strategies.Job) error {
	dir, err := os.MkdirTemp("", "concbench-python-")
	if err != nil {
		return fmt.Errorf("external %s: %w", s.program.Name, err)
	}
	defer os.RemoveAll(dir)
	if err := writePythonFiles(dir); err != nil {
		return fmt.Errorf("external %s: %w", s.program.Name, err)
	}
	p := s.program
	p.Argv = append(append([]string{s.python}, pythonFlags...), "-B", filepath.Join(dir, s.script))
	p.Dir = dir
	return p.Run(ctx, job)
}

// pythonFlags are the interpreter's flags, for the import probe and the
// run alike, so that what the probe found is what the script imports: -E
// ignores PYTHON* variables (a PYTHONPATH meant for another interpreter),
// -s the user's site-packages (~/.local is shared by every interpreter of
// a version). A virtualenv's or pyenv's own site-packages stay visible.
// The run adds -B: no .pyc next to the scripts.
var pythonFlags = []string{"-E", "-s"}

// Interpreter is the Python a strategy runs on.
type Interpreter struct {
	// Path is the interpreter as it is run: as given to --python or
	// $CONCBENCH_PYTHON (made absolute), a python3 found on PATH (not
	// resolved through symlinks, so a virtualenv stays one), or
	// DebianPython.
	Path string
	// Version is its sys.version, short: "3.11.2".
	Version string
}

// String reads "/usr/bin/python3 (Python 3.11.2)".
func (i Interpreter) String() string {
	if i.Version == "" {
		return i.Path
	}
	return i.Path + " (Python " + i.Version + ")"
}

// PythonOf returns the interpreter the Python strategy called name would
// run on, or why it has none (the error CheckAvailable wraps). It is an
// error for a strategy that is not one of the Python ones.
func PythonOf(name string) (Interpreter, error) {
	for _, sys := range pythonSystems {
		if sys.name == name {
			return currentSearch().forModule(sys)
		}
	}
	return Interpreter{}, fmt.Errorf("external: %s is not a Python strategy", name)
}

// SetPython makes path the only interpreter of the Python strategies, as
// the run command's --python flag does; "" restores the search
// ($CONCBENCH_PYTHON, then PATH, then DebianPython). A path without a
// slash is looked up on PATH. It fails when path is not an executable
// file. Call it before the strategies are checked or built: it changes
// what CheckAvailable says.
func SetPython(path string) error {
	abs := ""
	if path != "" {
		var err error
		if abs, err = executable(path); err != nil {
			return fmt.Errorf("python %s: %w", path, err)
		}
	}
	pythonSetting.Lock()
	defer pythonSetting.Unlock()
	pythonSetting.flag = abs
	return nil
}

// pythonSetting holds SetPython's path and the search for the current
// settings, rebuilt when --python, $CONCBENCH_PYTHON or $PATH changes.
var pythonSetting struct {
	sync.Mutex
	flag   string
	key    string
	search *search
}

func currentSearch() *search {
	pythonSetting.Lock()
	defer pythonSetting.Unlock()
	flag, env, path := pythonSetting.flag, os.Getenv(EnvPython), os.Getenv("PATH")
	key := flag + "\x00" + env + "\x00" + path
	if pythonSetting.search == nil || pythonSetting.key != key {
		pythonSetting.search, pythonSetting.key = newSearch(flag, env, path, DebianPython), key
	}
	return pythonSetting.search
}

// search finds the interpreter of each Python strategy: the one named by
// --python or $CONCBENCH_PYTHON, when set; else the first python3 on PATH
// that imports the strategy's module, then DebianPython (the fallback).
// Every strategy wants numpy too (without it the float32 kernels take a
// slower pure-Python path), so a candidate that imports both comes before
// one that imports only the module: the strategies of a run then share
// one interpreter wherever one has everything.
type search struct {
	explicit   string // "" when searching
	how        string // "--python" or "$CONCBENCH_PYTHON" when explicit
	candidates []string
}

func newSearch(flag, env, pathEnv, fallback string) *search {
	switch {
	case flag != "":
		return &search{explicit: flag, how: "--python", candidates: []string{flag}}
	case env != "":
		p := env
		if abs, err := executable(env); err == nil {
			p = abs
		}
		return &search{explicit: p, how: "$" + EnvPython, candidates: []string{p}}
	}
	return &search{candidates: python3OnPath(pathEnv, fallback)}
}

// python3OnPath lists every executable python3 in the directories of
// pathEnv, in order, then fallback; a directory reached twice (/bin and
// /usr/bin on a merged-/usr system) counts once. Relative directories are
// skipped, as exec.LookPath refuses them.
func python3OnPath(pathEnv, fallback string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(p string) {
		dir := filepath.Dir(p)
		if real, err := filepath.EvalSymlinks(dir); err == nil {
			dir = real
		}
		key := filepath.Join(dir, filepath.Base(p))
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, "python3")
		if _, err := executable(p); err == nil {
			add(p)
		}
	}
	add(fallback)
	return out
}

// executable returns path made absolute (looked up on PATH when it has no
// slash), or why it is not an executable file.
func executable(path string) (string, error) {
	if !strings.ContainsRune(path, filepath.Separator) {
		return exec.LookPath(path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(abs)
	switch {
	case err != nil:
		return "", err
	case fi.IsDir() || fi.Mode()&0o111 == 0:
		return "", fmt.Errorf("%s is not an executable file", abs)
	}
	return abs, nil
}

// forModule picks the interpreter of sys, or says why there is none: each
// interpreter tried and what it answered, and the cures.
func (s *search) forModule(sys pythonSystem) (Interpreter, error) {
	// Probed in order and only as far as needed: a candidate after the
	// first with the module and numpy is never started.
	probes := make([]*probe, len(s.candidates))
	for _, wantNumpy := range []bool{true, false} {
		for i, c := range s.candidates {
			if probes[i] == nil {
				probes[i] = probeOnce(c)
			}
			if pr := probes[i]; pr.err == nil && pr.imports[sys.module] && (!wantNumpy || pr.imports["numpy"]) {
				return Interpreter{Path: c, Version: pr.version}, nil
			}
		}
	}
	return Interpreter{}, s.unavailable(sys, probes)
}

// unavailable explains why no candidate can run sys.
func (s *search) unavailable(sys pythonSystem, probes []*probe) error {
	tried := make([]string, len(probes))
	for i, pr := range probes {
		tried[i] = s.candidates[i] + " (" + pr.answer(sys.module) + ")"
	}
	var b strings.Builder
	if s.explicit != "" {
		fmt.Fprintf(&b, "the Python of %s, %s, cannot run %s", s.how, tried[0], sys.name)
	} else {
		fmt.Fprintf(&b, "no Python here can run %s: tried %s", sys.name, strings.Join(tried, ", "))
	}
	ran := slices.ContainsFunc(probes, func(pr *probe) bool { return pr.err == nil })
	switch {
	case !ran && s.explicit != "":
		fmt.Fprintf(&b, "; give --python or $%s an interpreter that runs, or unset it to search PATH and %s", EnvPython, DebianPython)
	case !ran:
		fmt.Fprintf(&b, "; install Python 3: apt-get install python3 %s, or name another with --python or $%s", sys.pkg, EnvPython)
	case sys.pkg == "":
		// The standard library is missing a module: a broken install.
		b.WriteString("; its standard library is incomplete: reinstall that Python")
	case s.explicit != "":
		fmt.Fprintf(&b, "; install %s into it: %s -m pip install %s; or apt-get install %s and use Debian's %s (--python %s)",
			sys.pip, s.explicit, sys.pip, sys.pkg, DebianPython, DebianPython)
	default:
		fmt.Fprintf(&b, "; install %s: apt-get install %s (for Debian's %s), or PYTHON -m pip install %s into the interpreter PYTHON of your choice "+
			"(a virtualenv's; then name it with --python or $%s unless it is the first python3 on PATH)",
			sys.pip, sys.pkg, DebianPython, sys.pip, EnvPython)
	}
	return errors.New(b.String())
}

// probe is what one interpreter answered: its version and which of the
// modules the Python strategies need it imports.
type probe struct {
	version string
	imports map[string]bool
	missing map[string]string // module: the import's error
	err     error             // the interpreter did not run
}

// answer says what the interpreter answered about module, for an error.
func (pr *probe) answer(module string) string {
	switch {
	case pr.err != nil:
		return pr.err.Error()
	case pr.imports[module]:
		return "Python " + pr.version + ", imports " + module
	}
	return "Python " + pr.version + ": " + pr.missing[module]
}

// probeScript prints the interpreter's version, then one line a module:
// "ok MODULE" or "no MODULE ERROR".
const probeScript = `import importlib, sys
print("version", sys.version.split()[0])
for m in sys.argv[1:]:
    try:
        importlib.import_module(m)
        print("ok", m)
    except Exception as e:
        print("no", m, (type(e).__name__ + ": " + str(e)).replace("\n", " "))
`

// probeTimeout bounds one probe: importing Twisted, gevent and numpy
// takes about a second on a cold cache.
const probeTimeout = 20 * time.Second

// probes caches each interpreter's answer for the life of the process:
// what it imports does not change while concbench runs.
var probes sync.Map // path -> func() *probe

func probeOnce(path string) *probe {
	f, _ := probes.LoadOrStore(path, sync.OnceValue(func() *probe { return probePython(path) }))
	return f.(func() *probe)()
}

// probeModules are the modules the Python strategies need: each system's
// and numpy.
func probeModules() []string {
	mods := []string{"numpy"}
	for _, sys := range pythonSystems {
		if !slices.Contains(mods, sys.module) {
			mods = append(mods, sys.module)
		}
	}
	return mods
}

// probePython asks the interpreter at path, in one process, which of
// probeModules it imports.
func probePython(path string) *probe {
	if _, err := os.Stat(path); err != nil {
		return &probe{err: errors.New("not found")}
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	args := append(append(slices.Clone(pythonFlags), "-c", probeScript), probeModules()...)
	var stderr strings.Builder
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:] // a traceback's last line says what went wrong
		}
		if msg != "" {
			return &probe{err: fmt.Errorf("does not run: %v: %s", err, msg)}
		}
		return &probe{err: fmt.Errorf("does not run: %v", err)}
	}
	pr := &probe{imports: map[string]bool{}, missing: map[string]string{}}
	for _, line := range strings.Split(string(out), "\n") {
		word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
		switch word {
		case "version":
			pr.version = rest
		case "ok":
			pr.imports[rest] = true
		case "no":
			mod, why, _ := strings.Cut(rest, " ")
			pr.missing[mod] = why
		}
	}
	if pr.version == "" {
		return &probe{err: fmt.Errorf("does not run as Python 3: printed %q", clip(out))}
	}
	return pr
}

func writePythonFiles(dir string) error {
	sub, err := fs.Sub(pythonFiles, "python")
	if err != nil {
		return err
	}
	return os.CopyFS(dir, sub)
}
