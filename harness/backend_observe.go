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
// A harness that checks a round against the backend:
//
//	ob, ok := provider.(ObservedBackends)
//	addrs, err := provider.Prepare(ctx, spec)   // then, right before the round:
//	_, err = ob.Windows()                       // start every server's window
//	runRound()
//	ws, err := ob.Windows()                     // what each server did in the round
//
// Sum Gets over ws and compare with the round's fetches; compare each
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
