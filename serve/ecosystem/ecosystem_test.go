package ecosystem

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/concbench/concbench/serve/servetest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// gnet's package-level goroutine pool, started when the package
		// is initialised, and fasthttp's Date refresher, started with its
		// first server: both live as long as the process, by design.
		goleak.IgnoreCurrent(),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		// fasthttp's idle-worker cleaner checks its stop channel between
		// sleeps of MaxIdleWorkerDuration: it ends up to 10 s after Serve.
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
	)
}

func TestNetHTTP(t *testing.T)  { servetest.Conformance(t, NetHTTP{}) }
func TestGnet(t *testing.T)     { servetest.Conformance(t, Gnet{Loops: 2}) }
func TestFastHTTP(t *testing.T) { servetest.Conformance(t, FastHTTP{}) }

func TestEntries(t *testing.T) {
	seen := map[string]bool{}
	for _, e := range Entries() {
		if e.Name == "" || e.Summary == "" || e.Server == nil || seen[e.Name] {
			t.Errorf("entry %+v", e)
		}
		seen[e.Name] = true
	}
}
