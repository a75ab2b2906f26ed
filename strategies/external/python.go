package external

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// Python is the interpreter of the Python strategies: Debian's, whose
// packages (python3-gevent, ...) install into /usr/lib/python3/dist-packages.
// A python3 earlier on PATH (pyenv, a virtualenv) would not see them.
const Python = "/usr/bin/python3"

// DebianPackages are the Debian packages of every Python strategy; the
// install command for all of them is InstallCommand.
var DebianPackages = []string{"python3-numpy", "python3-gevent", "python3-uvloop", "python3-tornado", "python3-twisted"}

// InstallCommand installs every Python strategy's dependencies on Debian.
var InstallCommand = "apt-get install -y " + strings.Join(DebianPackages, " ")

//go:embed python/*.py
var pythonFiles embed.FS

// pythonSystem is one Python strategy: a script in python/ and what it
// needs.
type pythonSystem struct {
	name, summary string
	script        string // file in python/
	module        string // the module whose import proves the system is installed
	pkg           string // the Debian package providing module; "" for the standard library
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
		module: "uvloop", pkg: "python3-uvloop", conc: oneCore, param: connsParam()},
	{name: "py-gevent", summary: "Python gevent: monkey-patched sockets, a greenlet per task from a pool", script: "py_gevent.py",
		module: "gevent", pkg: "python3-gevent", conc: oneCore, param: connsParam()},
	{name: "py-tornado", summary: "Python Tornado: coroutines on the IOLoop, IOStream connections", script: "py_tornado.py",
		module: "tornado.iostream", pkg: "python3-tornado", conc: oneCore, param: connsParam()},
	{name: "py-twisted", summary: "Python Twisted: a Protocol with Deferreds on the reactor", script: "py_twisted.py",
		module: "twisted.internet", pkg: "python3-twisted", conc: oneCore, param: connsParam()},
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
		// Asked once per process: the answer does not change while it runs.
		Available: sync.OnceValue(sys.available),
		Make: func(p params.Set) (strategies.Strategy, error) {
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
			return &pythonStrategy{script: sys.script, program: Program{Name: sys.name, Params: prm, Cores: cores, InFlight: inFlight}}, nil
		},
	}
	if sys.param != nil {
		d.Params = []params.Spec{*sys.param}
	}
	return d
}

// available reports whether Python runs here and imports the system's
// module, with the command that would fix it.
func (sys pythonSystem) available() error {
	if _, err := os.Stat(Python); err != nil {
		return fmt.Errorf("%s not found: apt-get install python3 %s", Python, sys.pkg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, Python, "-E", "-s", "-c", "import "+sys.module).CombinedOutput()
	if err != nil {
		if sys.pkg == "" {
			return fmt.Errorf("%s cannot import %s (%v): %s", Python, sys.module, err, strings.TrimSpace(string(out)))
		}
		return fmt.Errorf("%s cannot import %s: apt-get install %s", Python, sys.module, sys.pkg)
	}
	return nil
}

// pythonStrategy runs one of the scripts of python/ with Debian's Python.
type pythonStrategy struct {
	script  string
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
	// -E ignores PYTHON* variables (a pyenv or virtualenv PYTHONPATH), -s
	// the user's site-packages, -B writes no .pyc next to the scripts.
	p.Argv = []string{Python, "-E", "-s", "-B", filepath.Join(dir, s.script)}
	p.Dir = dir
	return p.Run(ctx, job)
}

func writePythonFiles(dir string) error {
	sub, err := fs.Sub(pythonFiles, "python")
	if err != nil {
		return err
	}
	return os.CopyFS(dir, sub)
}
