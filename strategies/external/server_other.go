//go:build !linux

package external

import "syscall"

// serverProcAttr: no parent-death signal here; a server child exits when
// its stdin, a pipe only this process holds, closes with this process.
func serverProcAttr() *syscall.SysProcAttr { return nil }
