package placement

import (
	"errors"
	"os/exec"
)

// ErrUnsupported is returned where CPU placement is not implemented
// (everywhere but Linux) for a placement that places something.
var ErrUnsupported = errors.New("CPU placement is not supported on this system (it needs Linux's sched_setaffinity)")

// Applied is a placement in force in this process: what Apply did, and
// the CPUs each role's children are to be started on.
type Applied struct {
	Placement Placement
	// Start is the CPUs this process could run on before Apply: its
	// affinity when the program started, unless something changed it.
	Start CPUSet
}

// ChildCPUs returns the CPUs to start a child of role r on (see Start):
// the role's own when the placement places it; otherwise, when this
// process is pinned (Strategy placed), the CPUs it had before, so that an
// unplaced role is not confined to the strategy's CPUs by inheritance;
// otherwise the empty set, which leaves the child the affinity it
// inherits.
func (a *Applied) ChildCPUs(r Role) CPUSet {
	if a == nil {
		return CPUSet{}
	}
	if s := a.Placement.CPUs(r); !s.IsEmpty() {
		return s
	}
	if !a.Placement.CPUs(Strategy).IsEmpty() {
		return a.Start
	}
	return CPUSet{}
}

// Start starts cmd with its CPU affinity set to cpus from its first
// instruction: the fork happens on the calling goroutine's thread, its
// affinity set to cpus for that moment (see the package comment). An
// empty cpus is cmd.Start. Where placement is not supported, a non-empty
// cpus is ErrUnsupported and nothing starts.
func Start(cmd *exec.Cmd, cpus CPUSet) error {
	if cpus.IsEmpty() {
		return cmd.Start()
	}
	return startPinned(cmd, cpus)
}
