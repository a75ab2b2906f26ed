package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/concbench/concbench/strategies/external"
)

// TestListStatesEachDefaultOnce guards against "(default 4×GOMAXPROCS)
// (default 8)": a default given as a rule is stated with its value here,
// once.
func TestListStatesEachDefaultOnce(t *testing.T) {
	t.Parallel()
	out, stderr, code := concbench(t, t.TempDir(), "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	want := "(default 4×GOMAXPROCS, here " + strconv.Itoa(4*runtime.GOMAXPROCS(0)) + ")"
	if !strings.Contains(out, "pool.workers=") || !strings.Contains(out, want) {
		t.Errorf("list does not say %q:\n%s", want, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.Count(line, "(default ") > 1 {
			t.Errorf("a default stated twice: %s", line)
		}
	}
}

// TestListShowsEachPythonStrategysInterpreter: with the default search,
// list names what the package would choose; with $CONCBENCH_PYTHON set to
// an interpreter with only the standard library, the standard-library
// strategies run on it and the others are unavailable, naming it and the
// cures.
func TestListShowsEachPythonStrategysInterpreter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out, stderr, code := concbench(t, dir, "list")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, name := range []string{"py-blocking", "py-gevent", "py-twisted"} {
		line := strategyLine(t, out, name)
		py, err := external.PythonOf(name) // the same PATH and environment as the child
		switch {
		case err != nil && !strings.Contains(line, "unavailable"):
			t.Errorf("%s: unavailable here (%v) but listed as %q", name, err, line)
		case err == nil && !strings.Contains(line, "python "+py.String()):
			t.Errorf("%s: line %q does not name its interpreter %s", name, line, py)
		}
	}

	fake := filepath.Join(dir, "python3")
	probe := `#!/bin/sh
[ "$1 $2 $3" = "-E -s -c" ] || exit 2
shift 4
echo "version 3.99.0"
for m in "$@"; do
	case $m in
	socket|threading|asyncio|concurrent.futures) echo "ok $m" ;;
	*) echo "no $m ModuleNotFoundError: No module named '$m'" ;;
	esac
done
`
	if err := os.WriteFile(fake, []byte(probe), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, how := range []struct {
		env  []string
		args []string
	}{
		{[]string{external.EnvPython + "=" + fake}, []string{"list"}},
		{nil, []string{"list", "--python", fake}},
	} {
		out, stderr, code := concbenchWith(t, binary, dir, how.env, how.args...)
		if code != 0 {
			t.Fatalf("%v %v: exit %d: %s", how.env, how.args, code, stderr)
		}
		if line := strategyLine(t, out, "py-blocking"); !strings.Contains(line, "python "+fake+" (Python 3.99.0)") {
			t.Errorf("%v %v: py-blocking: %q, want it on %s", how.env, how.args, line, fake)
		}
		line := strategyLine(t, out, "py-gevent")
		for _, want := range []string{"unavailable", fake, "pip install gevent", "apt-get install python3-gevent"} {
			if !strings.Contains(line, want) {
				t.Errorf("%v %v: py-gevent: %q does not say %q", how.env, how.args, line, want)
			}
		}
	}
	if _, stderr, code := concbench(t, dir, "list", "--python", filepath.Join(dir, "nope")); code != exitUsage {
		t.Errorf("list --python nope: exit %d, want %d: %s", code, exitUsage, stderr)
	}
}

func strategyLine(t *testing.T, list, name string) string {
	t.Helper()
	for _, line := range strings.Split(list, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), name+" ") {
			return line
		}
	}
	t.Fatalf("no line for %s in:\n%s", name, list)
	return ""
}
