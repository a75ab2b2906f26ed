package external

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies"
	"github.com/concbench/concbench/workloads"
)

// stdlib are the modules of the strategies that need only the standard
// library; a fake interpreter imports them plus whatever it is given.
var stdlib = []string{"socket", "threading", "concurrent.futures", "asyncio"}

// fakePython writes an executable python3 into a fresh directory: a shell
// script that answers the import probe as an interpreter of the given
// version importing the standard library and extra, and refuses flags
// other than the ones the probe must pass. Run as a strategy's
// interpreter, it reports its argv as a fatal protocol line.
func fakePython(t *testing.T, version string, extra ...string) string {
	t.Helper()
	dir := t.TempDir()
	has := strings.Join(append(slices.Clone(stdlib), extra...), " ")
	script := `#!/bin/sh
if [ "$1 $2 $3" = "-E -s -c" ]; then
	shift 4
	echo "version ` + version + `"
	for m in "$@"; do
		case " ` + has + ` " in
		*" $m "*) echo "ok $m" ;;
		*) echo "no $m ModuleNotFoundError: No module named '$m'" ;;
		esac
	done
	exit 0
fi
if [ "$1 $2 $3" = "-E -s -B" ]; then
	read job
	echo "{\"fatal\":\"fake python ran: $*\"}"
	exit 1
fi
echo "unexpected arguments: $*" >&2
exit 2
`
	p := filepath.Join(dir, "python3")
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// brokenPython is a python3 that fails as an interpreter that cannot start.
func brokenPython(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "python3")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho 'Fatal Python error: init_fs_encoding' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func system(t *testing.T, name string) pythonSystem {
	t.Helper()
	for _, sys := range pythonSystems {
		if sys.name == name {
			return sys
		}
	}
	t.Fatalf("no Python system %s", name)
	return pythonSystem{}
}

func pathOf(pythons ...string) string {
	dirs := make([]string, len(pythons))
	for i, p := range pythons {
		dirs[i] = filepath.Dir(p)
	}
	return strings.Join(dirs, string(filepath.ListSeparator))
}

// TestSearchChoosesTheInterpreter runs the search over fake interpreters
// on a fake PATH: this machine's case (a pyenv python3 first on PATH
// without the packages, Debian's with them), a virtualenv with
// everything, the numpy preference, and --python / $CONCBENCH_PYTHON.
func TestSearchChoosesTheInterpreter(t *testing.T) {
	t.Parallel()
	all := []string{"numpy", "gevent", "uvloop", "tornado.iostream", "twisted.internet"}
	pyenv := fakePython(t, "3.11.7")
	debian := fakePython(t, "3.11.2", all...)
	venv := fakePython(t, "3.12.1", "numpy", "gevent")
	noNumpy := fakePython(t, "3.13.0", "gevent")
	tests := []struct {
		name                string
		flag, env, path, fb string
		strategy            string
		want                string // the chosen interpreter
	}{
		{"this machine: gevent only in Debian's", "", "", pathOf(pyenv), debian, "py-gevent", debian},
		{"this machine: the standard library where numpy is", "", "", pathOf(pyenv), debian, "py-blocking", debian},
		{"a virtualenv first on PATH", "", "", pathOf(venv, pyenv), debian, "py-gevent", venv},
		{"a virtualenv without twisted", "", "", pathOf(venv, pyenv), debian, "py-twisted", debian},
		{"numpy preferred over the first on PATH", "", "", pathOf(noNumpy, venv), debian, "py-gevent", venv},
		{"without numpy anywhere, the first that imports", "", "", pathOf(pyenv, noNumpy), pyenv, "py-asyncio", pyenv},
		{"without numpy anywhere, gevent's", "", "", pathOf(pyenv, noNumpy), pyenv, "py-gevent", noNumpy},
		{"a broken one is passed over", "", "", pathOf(brokenPython(t), venv), debian, "py-asyncio", venv},
		{"--python wins over the search", venv, "", pathOf(pyenv), debian, "py-blocking", venv},
		{"--python wins over $CONCBENCH_PYTHON", venv, debian, pathOf(pyenv), debian, "py-gevent", venv},
		{"$CONCBENCH_PYTHON wins over PATH", "", noNumpy, pathOf(venv), debian, "py-gevent", noNumpy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := newSearch(tt.flag, tt.env, tt.path, tt.fb).forModule(system(t, tt.strategy))
			if err != nil {
				t.Fatal(err)
			}
			if got.Path != tt.want {
				t.Errorf("%s runs on %s, want %s", tt.strategy, got.Path, tt.want)
			}
			if got.Version == "" {
				t.Errorf("no version for %s", got.Path)
			}
		})
	}
}

// TestNoInterpreterSaysWhatWasTriedAndHowToCureIt: the unavailable
// message names every interpreter tried with its answer, and both cures
// (apt-get, pip into that interpreter) where both apply.
func TestNoInterpreterSaysWhatWasTriedAndHowToCureIt(t *testing.T) {
	t.Parallel()
	pyenv := fakePython(t, "3.11.7")
	venv := fakePython(t, "3.12.1", "numpy", "gevent")
	broken := brokenPython(t)
	missing := filepath.Join(t.TempDir(), "python3")
	tests := []struct {
		name                string
		flag, env, path, fb string
		strategy            string
		says                []string
	}{
		{"searched", "", "", pathOf(pyenv), venv, "py-twisted", []string{
			"no Python here can run py-twisted",
			pyenv + " (Python 3.11.7: ModuleNotFoundError: No module named 'twisted.internet')",
			venv + " (Python 3.12.1: ModuleNotFoundError",
			"apt-get install python3-twisted", "PYTHON -m pip install twisted", "--python", "$CONCBENCH_PYTHON"}},
		{"--python", venv, "", pathOf(pyenv), pyenv, "py-uvloop", []string{
			"the Python of --python, " + venv + " (Python 3.12.1: ModuleNotFoundError: No module named 'uvloop')",
			venv + " -m pip install uvloop", "apt-get install python3-uvloop", "--python /usr/bin/python3"}},
		{"$CONCBENCH_PYTHON", "", venv, "", pyenv, "py-tornado", []string{
			"the Python of $CONCBENCH_PYTHON, " + venv, venv + " -m pip install tornado", "apt-get install python3-tornado"}},
		{"no Python at all", "", "", "", missing, "py-blocking", []string{
			"tried " + missing + " (not found)", "apt-get install python3", "--python"}},
		{"a broken one", "", "", pathOf(broken), missing, "py-gevent", []string{
			broken + " (does not run: exit status 1: Fatal Python error: init_fs_encoding)", missing + " (not found)",
			"apt-get install python3 python3-gevent"}},
		{"--python does not run", broken, "", pathOf(venv), venv, "py-blocking", []string{
			"the Python of --python, " + broken + " (does not run", "unset it to search PATH"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newSearch(tt.flag, tt.env, tt.path, tt.fb).forModule(system(t, tt.strategy))
			if err == nil {
				t.Fatal("an interpreter was chosen")
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("the error does not say %q:\n%v", s, err)
				}
			}
		})
	}
}

// TestPython3OnPath: every python3 on PATH in order, each directory once
// (a symlinked directory is the same one), relative entries skipped, the
// fallback last.
func TestPython3OnPath(t *testing.T) {
	t.Parallel()
	a, b := fakePython(t, "3.1.0"), fakePython(t, "3.2.0")
	alias := filepath.Join(t.TempDir(), "bin")
	if err := os.Symlink(filepath.Dir(a), alias); err != nil {
		t.Fatal(err)
	}
	notExec := filepath.Join(t.TempDir(), "python3")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	sep := string(filepath.ListSeparator)
	pathEnv := strings.Join([]string{"", ".", filepath.Dir(a), empty, filepath.Dir(notExec), alias, filepath.Dir(b), filepath.Dir(a)}, sep)
	got := python3OnPath(pathEnv, b)
	if want := []string{a, b}; !slices.Equal(got, want) {
		t.Errorf("python3OnPath = %v, want %v", got, want)
	}
	fb := filepath.Join(empty, "python3")
	if got := python3OnPath("", fb); !slices.Equal(got, []string{fb}) {
		t.Errorf("with an empty PATH: %v, want only the fallback %s", got, fb)
	}
}

// TestRunUsesTheChosenInterpreter: SetPython reaches the child's argv
// with the probe's flags, and bad paths are refused.
func TestRunUsesTheChosenInterpreter(t *testing.T) {
	// Not parallel: SetPython changes the package's setting.
	fake := fakePython(t, "3.99.0")
	if err := SetPython(fake); err != nil {
		t.Fatal(err)
	}
	defer SetPython("")
	def, err := strategies.Lookup("py-blocking")
	if err != nil {
		t.Fatal(err)
	}
	py, err := PythonOf("py-blocking")
	if err != nil || py.Path != fake || py.Version != "3.99.0" {
		t.Fatalf("PythonOf = %v, %v; want %s (Python 3.99.0)", py, err, fake)
	}
	if err := def.CheckAvailable(); err != nil {
		t.Fatal(err)
	}
	if err := strategiesLookupUnavailable("py-gevent"); err == nil || !strings.Contains(err.Error(), fake) {
		t.Errorf("py-gevent with --python %s: CheckAvailable = %v, want unavailable naming it", fake, err)
	}
	s, _, err := def.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	wd, err := workloads.Lookup("noop")
	if err != nil {
		t.Fatal(err)
	}
	spec, err := wd.Build(params.Values{"tasks": "2"})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Run(context.Background(), strategies.NewJob(spec, nil, time.Second))
	if !errors.Is(err, ErrChildFailed) || !strings.Contains(err.Error(), "fake python ran: -E -s -B /") ||
		!strings.Contains(err.Error(), "/py_blocking.py") {
		t.Errorf("Run = %v, want the fake interpreter to report -E -s -B .../py_blocking.py", err)
	}

	for _, bad := range []string{filepath.Join(t.TempDir(), "nope"), t.TempDir(), "no-such-python-anywhere"} {
		if err := SetPython(bad); err == nil {
			t.Errorf("SetPython(%q) accepted", bad)
		}
	}
	if err := SetPython(""); err != nil {
		t.Fatal(err)
	}
	if py, err := PythonOf("py-blocking"); err == nil && py.Path == fake {
		t.Errorf("SetPython(\"\") kept %s", fake)
	}
	if _, err := PythonOf("blocking"); err == nil {
		t.Error("PythonOf(blocking): no error for a Go strategy")
	}
}

func strategiesLookupUnavailable(name string) error {
	def, err := strategies.Lookup(name)
	if err != nil {
		return err
	}
	return def.CheckAvailable()
}

// TestThisMachinesInterpreters checks the default search against the real
// interpreters here: each available strategy's interpreter imports its
// module with the run's flags, and where Debian's Python is the only one
// with a strategy's module (this VM: pyenv's python3 is first on PATH,
// without gevent), the search still finds it.
func TestThisMachinesInterpreters(t *testing.T) {
	imports := func(python string, modules ...string) error {
		args := append(slices.Clone(pythonFlags), "-c", "import "+strings.Join(modules, ", "))
		if out, err := exec.Command(python, args...).CombinedOutput(); err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	}
	chosen := map[string][]string{} // interpreter: the modules it was chosen for
	for _, sys := range pythonSystems {
		py, err := PythonOf(sys.name)
		if err != nil {
			t.Logf("%s: %v", sys.name, err)
			continue
		}
		chosen[py.Path] = append(chosen[py.Path], sys.module)
	}
	for python, modules := range chosen {
		if err := imports(python, modules...); err != nil {
			t.Errorf("%s was chosen for %v but cannot import them: %v", python, modules, err)
		}
	}

	first := testenv.LookPath(t, "python3", "apt-get install -y python3")
	if imports(first, "gevent") == nil || imports(DebianPython, "gevent") != nil {
		t.Skipf("the check needs a first python3 on PATH without gevent (here %s) and %s with it: this machine's interpreters are arranged otherwise", first, DebianPython)
	}
	py, err := PythonOf("py-gevent")
	if err != nil || py.Path == first {
		t.Errorf("py-gevent with %s (no gevent) first on PATH: %v, %v; want an interpreter with gevent", first, py, err)
	}
	py, err = newSearch("", "", filepath.Dir(first), DebianPython).forModule(system(t, "py-gevent"))
	if err != nil || py.Path != DebianPython {
		t.Errorf("py-gevent with only %s on PATH: %v, %v; want %s", first, py, err, DebianPython)
	}
}
