//go:build !linux

package harness

import "time"

// childProcesses returns no children where there is no /proc: a server in
// another process (py-*) then has its CPU time unmeasured, and a serve
// round reports this process's alone.
func childProcesses() (map[int]bool, error) { return map[int]bool{}, nil }

// processesCPU is 0 where there is no /proc (see childProcesses).
func processesCPU([]int) time.Duration { return 0 }
