package external

import "syscall"

// serverProcAttr asks the kernel to kill a server child when the thread
// that forked it exits: with spawnLocked's thread, when this process exits,
// even by SIGKILL. Go's fork also checks that the parent did not die
// between fork and the prctl call. The child gets a process group of its
// own, so that a Ctrl-C on the terminal reaches only concbench, which
// then stops the server the normal way (no KeyboardInterrupt traceback,
// no server gone before the load generator's last request).
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
}
