package workloads_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/workloads"
)

// The serve workload's spec is the webrequest workload's, a task a page:
// the keys a backend provider prepares are the pages' lookups, and each
// task's reference is its page's digest (serve's contract).
func TestServeSpecIsTheWebrequestPages(t *testing.T) {
	t.Parallel()
	build := func(name string, v params.Values) *workloads.Spec {
		d, err := workloads.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := d.Build(v)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	spec := build("serve", params.Values{"pages": "7", "latency": "2ms", "rate": "3000", "arrival": "poisson", "slo": "5ms"})
	web := build("webrequest", params.Values{"tasks": "7", "latency": "2ms"})
	if !reflect.DeepEqual(spec.Tasks, web.Tasks) || spec.Backend != web.Backend {
		t.Fatalf("serve's tasks and backend are not webrequest's:\n%+v %+v\n%+v %+v", spec.Tasks, spec.Backend, web.Tasks, web.Backend)
	}
	const secret = 0x5eed
	spec.UseSecret(secret)
	keys := spec.Keys(secret)
	for id := range 7 {
		if keys[2*id] != serve.SessionKey(id) {
			t.Errorf("key %d is %q, want page %d's session %q", 2*id, keys[2*id], id, serve.SessionKey(id))
		}
		s := serve.ReplyHash(workloads.SecretValue(secret, serve.SessionKey(id), 128))
		u := serve.ReplyHash(workloads.SecretValue(secret, serve.UserKey(s), 128))
		if got := serve.Sums(id, s, u).Digest; got != spec.Reference[id].Sum {
			t.Errorf("page %d: digest %#x, the task's reference %#x", id, got, spec.Reference[id].Sum)
		}
	}

	got, ok := workloads.ServeSettingsOf(spec)
	want := workloads.ServeSettings{Rate: 3000, Latency: 2 * time.Millisecond, Arrival: workloads.ArrivalPoisson,
		Duration: time.Second, SLO: 5 * time.Millisecond, Pages: 7, Conns: 256, ValueSize: 128}
	if !ok || got != want {
		t.Errorf("ServeSettingsOf = %+v, %v; want %+v", got, ok, want)
	}
	if _, ok := workloads.ServeSettingsOf(web); ok {
		t.Error("a webrequest spec has serve settings")
	}
}
