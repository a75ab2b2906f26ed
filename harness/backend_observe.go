package harness

import "github.com/concbench/concbench/workloads/backend"

// ObservedBackends is what the providers of the built-in backend
// (InProcessBackends, ChildBackends, RemoteBackends) offer besides
// BackendProvider: the servers' own counts of what they served, per
// measurement window, their CPU profiles, and the children that had to be
// restarted. RedisBackend does not offer it. RemoteBackends reports one
// window per server, which counts every instance mapped to it; the others
// one per instance.
//
// Each of them checks every batch round of Run itself, as a RoundCheck
// (verify_backend.go): it reads the windows right before and right after
// the round, so a caller that reads windows of its own (a serve round, a
// test) must do so outside Run's batch rounds:
//
//	ob, ok := provider.(ObservedBackends)
//	addrs, err := provider.Prepare(ctx, spec)   // then, right before the span:
//	_, err = ob.Windows()                       // start every server's window
//	runSpan()
//	ws, err := ob.Windows()                     // what each server did in the span
//
// Sum Gets over ws and compare with the span's fetches; compare each
// server's MaxInFlight with the strategy's limit (see Windows).
type ObservedBackends interface {
	BackendProvider
	Windows() ([]backend.Window, error)
	Stats() ([]backend.Stats, error)
	StartCPUProfiles() error
	StopCPUProfiles() ([][]byte, error)
	Restarts() []BackendRestart
}

var (
	_ ObservedBackends = (*InProcessBackends)(nil)
	_ ObservedBackends = (*ChildBackends)(nil)
	_ ObservedBackends = (*RemoteBackends)(nil)
)
