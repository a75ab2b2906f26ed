package harness

import "syscall"

// childProcAttr asks the kernel to kill a backend child when the thread
// that forked it exits: with the spawner's locked thread, when this
// process exits, even by SIGKILL. Go's fork also checks that the parent
// did not die between fork and the prctl call.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
