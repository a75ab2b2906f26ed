package harness

import (
	"fmt"

	"github.com/concbench/concbench/placement"
)

// PlaceBackends puts the backend child processes of provider on the CPUs
// applied gives the Backend role (placement.Applied.ChildCPUs): the role's
// own, or, when only this process is pinned, the CPUs it had before, so
// the children are not confined to the strategy's. Call it before the
// first Prepare. Only ChildBackends starts processes it can place: a
// placement that names backend CPUs for in-process backends (which run on
// the strategy's threads) or for servers this run does not start is refused
// with an error wrapping placement.ErrBadPlacement, a usage error. A
// placement that names no backend CPUs is accepted with any provider.
func PlaceBackends(provider BackendProvider, applied *placement.Applied) error {
	if applied == nil {
		return nil
	}
	if c, ok := provider.(*ChildBackends); ok {
		c.CPUs = applied.ChildCPUs(placement.Backend)
		return nil
	}
	cpus := applied.Placement.CPUs(placement.Backend)
	if cpus.IsEmpty() {
		return nil
	}
	var why string
	switch provider.(type) {
	case *InProcessBackends:
		why = "in-process backends run on the strategy's threads: use --backend builtin, which runs them as child processes"
	case *RemoteBackends, *RedisBackend:
		why = "this run does not start those servers: place them where they are started (taskset -c CPUS concbench backend ..., taskset -c CPUS redis-server ...)"
	default:
		why = "this backend starts no process here"
	}
	return fmt.Errorf("%w: backend=%s with %s: %s", placement.ErrBadPlacement, cpus, provider.Describe(), why)
}
