package harness

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"time"
)

// clockTick is the unit of /proc/PID/stat's CPU times: USER_HZ, 100 on
// every architecture Linux builds for today (sysconf(_SC_CLK_TCK) needs
// cgo). A round's reading is therefore good to 10 ms a process.
const clockTick = 10 * time.Millisecond

// procStat is what a serve round reads of a process in /proc/PID/stat.
type procStat struct {
	ppid int
	cpu  time.Duration // utime + stime + cutime + cstime: its own and its reaped children's
}

// readProcStat reads /proc/PID/stat; false when the process has gone.
func readProcStat(pid int) (procStat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, false
	}
	// The command name, field 2, is in parentheses and may hold spaces
	// and parentheses: the fields after it follow the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3, the state
	if len(f) < 15 {
		return procStat{}, false
	}
	num := func(k int) int64 { // field k of proc(5)
		n, _ := strconv.ParseInt(string(f[k-3]), 10, 64)
		return n
	}
	ticks := num(14) + num(15) + num(16) + num(17)
	return procStat{ppid: int(num(4)), cpu: time.Duration(ticks) * clockTick}, true
}

// allProcesses reads every process's stat, by pid.
func allProcesses() (map[int]procStat, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	procs := map[int]procStat{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readProcStat(pid); ok {
			procs[pid] = st
		}
	}
	return procs, nil
}

// childProcesses returns this process's children.
func childProcesses() (map[int]bool, error) {
	procs, err := allProcesses()
	if err != nil {
		return nil, err
	}
	self := os.Getpid()
	kids := map[int]bool{}
	for pid, st := range procs {
		if st.ppid == self {
			kids[pid] = true
		}
	}
	return kids, nil
}

// processesCPU is the CPU time of the processes roots and every process
// under them, including their children already reaped. A process that has
// gone counts no more.
func processesCPU(roots []int) time.Duration {
	if len(roots) == 0 {
		return 0
	}
	procs, err := allProcesses()
	if err != nil {
		return 0
	}
	in := map[int]bool{}
	for _, pid := range roots {
		in[pid] = true
	}
	for grew := true; grew; { // descendants, to any depth
		grew = false
		for pid, st := range procs {
			if !in[pid] && in[st.ppid] {
				in[pid], grew = true, true
			}
		}
	}
	var cpu time.Duration
	for pid := range in {
		cpu += procs[pid].cpu
	}
	return cpu
}
