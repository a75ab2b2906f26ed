package external

import "syscall"

// serverProcAttr asks the kernel to kill a server child when the thread
// that forked it exits: with spawnLocked's thread, when this process exits,
// even by SIGKILL. Go's fork also checks that the parent did not die
// between fork and the prctl call.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
