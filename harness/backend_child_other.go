//go:build !linux

package harness

import "syscall"

// childProcAttr: no parent-death signal here; a backend child exits when
// its stdin, a pipe only the parent holds, closes with the parent.
func childProcAttr() *syscall.SysProcAttr { return nil }
