package harness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/internal/testenv"
	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/strategies/external"
	"github.com/concbench/concbench/workloads"
)

// localValuePy is workloads.Value (no secret) in Python: the values a
// Python strategy can make without the backend.
const localValuePy = `

def local_value(key, size):
    """workloads.Value(key, size), made here instead of asked for."""
    def fin(z):
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & MASK
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & MASK
        return z ^ (z >> 31)
    state = fnv1a(FNV_OFFSET, key.encode())
    out = bytearray()
    while len(out) < size:
        state = (state + 0x9e3779b97f4a7c15) & MASK
        z = fin(state)
        for b in range(8):
            if len(out) < size:
                out.append(97 + (z >> (8 * b)) % 26)
    return bytes(out)
`

// pythonCopy copies the Python strategies' scripts into a folder of the
// test, with concbench_ext.py's fetches answered locally when mutate is
// set: the sync tasks' (py-blocking, py-threads, py-pool, py-gevent) and
// the coroutines' (py-asyncio, py-uvloop, py-tornado, py-twisted).
func pythonCopy(t *testing.T, mutate bool) string {
	t.Helper()
	src, err := filepath.Glob("../strategies/external/python/*.py")
	if err != nil || len(src) == 0 {
		t.Fatalf("the Python strategies' scripts: %v, %v", src, err)
	}
	dir := t.TempDir()
	for _, path := range src {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if mutate && filepath.Base(path) == "concbench_ext.py" {
			for _, m := range []struct{ from, to string }{
				{"c.fetched(conns.get(c.backend(), c.key()))", "c.fetched(local_value(c.key(), job.value_size))"},
				{"c.fetched(await conns.get(c.backend(), c.key()))", "c.fetched(local_value(c.key(), proto.job.value_size))"},
			} {
				if strings.Count(text, m.from) != 1 {
					t.Fatalf("concbench_ext.py holds %q %d times, want once: update the mutation", m.from, strings.Count(text, m.from))
				}
				text = strings.Replace(text, m.from, m.to, 1)
			}
			text += localValuePy
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(path)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The Python strategies fetch through their own clients: nothing to give
// them but the backend's address. One whose fetches are answered locally
// (a patched copy of the shared module) fails its cell, saying so; the
// unpatched copy passes, so the patch is what fails it.
func TestPythonStrategyThatAnswersLocallyFails(t *testing.T) {
	py, err := external.PythonOf("py-blocking")
	if err != nil {
		testenv.Need(t, "no Python for the Python strategies: "+err.Error(), external.InstallCommand)
	}
	p := &InProcessBackends{}
	defer p.Close()
	spec := smallSpec(t, "webrequest", params.Values{"tasks": "12", "latency": "0s"})
	opt := Options{Timeout: time.Minute, FetchTimeout: 5 * time.Second, Backends: p}
	for _, script := range []string{"py_blocking.py", "py_asyncio.py"} {
		for _, mutate := range []bool{false, true} {
			dir := pythonCopy(t, mutate)
			prog := &external.Program{Name: script, Argv: []string{py.Path, "-E", "-s", "-B", filepath.Join(dir, script)},
				Dir: dir, Params: map[string]string{"conns": "1"}, Cores: 1, InFlight: 1, Repeats: true}
			res := runCell(context.Background(), cell(spec, prog, script), opt)
			switch {
			case !mutate && res.Err != nil:
				t.Fatalf("%s, unpatched: %v", script, res.Err)
			case mutate && (!errors.Is(res.Err, ErrCellFailed) || !strings.Contains(res.Err.Error(), workloads.ErrAnsweredLocally.Error())):
				t.Errorf("%s answering locally: %v; want the cell failed, saying the fetches were answered without the backend", script, res.Err)
			}
		}
	}
}
