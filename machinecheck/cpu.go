package machinecheck

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// usableCPUs is how many CPUs this process can run on: the CPUs of its
// affinity mask (which a cpuset also narrows), or the online ones where
// the mask is not readable, capped by a cgroup CPU quota.
type usableCPUs struct {
	online, affinity int     // 0: not readable
	affinityList     string  // "0-1"
	quota            float64 // CPUs; 0: no quota
	quotaFile        string
}

func (in *inputs) usable() usableCPUs {
	var u usableCPUs
	if s, err := in.read("/sys/devices/system/cpu/online"); err == nil {
		if cpus, err := cpuList(s); err == nil {
			u.online = len(cpus)
		}
	}
	if s, err := in.read("/proc/self/status"); err == nil {
		if list := keyValues(s)["Cpus_allowed_list"]; list != "" {
			if cpus, err := cpuList(list); err == nil {
				u.affinity, u.affinityList = len(cpus), list
			}
		}
	}
	if q, file, ok := in.cpuQuota(); ok {
		u.quota, u.quotaFile = q, file
	}
	return u
}

// cpus is the number of CPUs the process can keep busy at once: its
// affinity (or the online count), capped by the quota.
func (u usableCPUs) cpus() float64 {
	n := float64(u.affinity)
	if n == 0 {
		n = float64(u.online)
	}
	if u.quota > 0 && (n == 0 || u.quota < n) {
		n = u.quota
	}
	return n
}

func formatCPUs(n float64) string {
	if n == math.Trunc(n) {
		return strconv.Itoa(int(n))
	}
	return strconv.FormatFloat(n, 'f', 2, 64)
}

// checkCPUs compares GOMAXPROCS with the CPUs the process can use. More
// Ps than CPUs time-share them, and above a cgroup quota the whole
// process is throttled for the rest of each period (100 ms by default):
// both show as rounds far slower than their neighbours. Fewer Ps than
// CPUs leave the parallel strategies cores they could use.
func checkCPUs(in *inputs) Finding {
	u := in.usable()
	f := Finding{Check: "cpus", Status: OK}
	n := u.cpus()
	var parts []string
	parts = append(parts, fmt.Sprintf("GOMAXPROCS %d", in.gomaxprocs))
	if u.online > 0 {
		parts = append(parts, fmt.Sprintf("%d online", u.online))
	}
	if u.affinityList != "" {
		parts = append(parts, "affinity "+u.affinityList)
	}
	if u.quota > 0 {
		parts = append(parts, "CPU quota "+formatCPUs(u.quota)+" ("+u.quotaFile+")")
	} else {
		parts = append(parts, "no CPU quota")
	}
	f.Value = strings.Join(parts, ", ")
	gmp := float64(in.gomaxprocs)
	switch {
	case n == 0:
		f.Value += "; usable CPUs not exposed"
	case u.quota > 0 && gmp > u.quota:
		f.Status = Warn
		f.Advice = fmt.Sprintf("GOMAXPROCS %d is above the CPU quota of %s: the cgroup throttles the whole process for the rest of "+
			"each period once it spends its quota; raise the quota to %d CPUs, or run with GOMAXPROCS=%d", in.gomaxprocs,
			formatCPUs(u.quota), in.gomaxprocs, max(1, int(math.Floor(u.quota))))
	case gmp > n:
		f.Status = Warn
		f.Advice = fmt.Sprintf("GOMAXPROCS %d is above the %s usable CPUs: Go's threads time-share them; unset GOMAXPROCS "+
			"(Go then uses the usable count) or widen the affinity (taskset)", in.gomaxprocs, formatCPUs(n))
	case gmp < math.Floor(n):
		f.Status = Warn
		f.Advice = fmt.Sprintf("GOMAXPROCS %d leaves %d of the %s usable CPUs idle: the parallel strategies cannot use them "+
			"(cell names end in -%d); unset GOMAXPROCS unless that is the point", in.gomaxprocs,
			int(math.Floor(n))-in.gomaxprocs, formatCPUs(n), in.gomaxprocs)
	case n < 2:
		f.Status = Warn
		f.Advice = "fewer than 2 usable CPUs (" + formatCPUs(n) + "): the harness, the backends and the strategy under test " +
			"share one, so concurrency results measure time slicing; give the machine (or the container) at least 2 CPUs"
	}
	return f
}

// othersThreshold is the CPU share of other processes that warns: 5 %
// of a CPU, above an idle system's background and, on a 2-CPU machine,
// enough to add a few percent of noise to a parallel cell.
const othersThreshold = 0.05

// checkLoad measures what other processes used during the sample: the
// busy ticks of every CPU less this process's own, in CPUs. The load
// average is shown too: it covers the last minute, which the short
// sample may miss (a periodic job), but also a benchmark that just ended.
func checkLoad(in *inputs) Finding {
	f := Finding{Check: "load", Status: OK}
	a, b := in.before, in.after
	if a.err != nil || b.err != nil {
		return Finding{Check: "load", Status: OK, Value: "not exposed (/proc/stat)"}
	}
	d := b.all.minus(a.all)
	ncpu := len(b.cpus)
	var parts []string
	others := 0.0
	if d.total() == 0 || ncpu == 0 {
		parts = append(parts, "no CPU time passed between the samples")
	} else {
		ticksPerCPU := float64(d.total()) / float64(ncpu)
		self := float64(0)
		if b.self >= a.self {
			self = float64(b.self - a.self)
		}
		others = math.Max(0, float64(d.busy())-self) / ticksPerCPU
		var busiest []string
		for i, c := range b.cpus {
			if i >= len(a.cpus) || a.cpus[i].name != c.name {
				break
			}
			dc := c.minus(a.cpus[i])
			if dc.total() == 0 {
				continue
			}
			if share := float64(dc.busy()) / float64(dc.total()); share >= othersThreshold {
				busiest = append(busiest, c.name+" "+percent(share))
			}
		}
		v := fmt.Sprintf("others used %.2f CPU over %v", others, in.interval)
		if len(busiest) > 0 {
			if len(busiest) > 4 {
				busiest = append(busiest[:4], fmt.Sprintf("%d more", len(busiest)-4))
			}
			v += " (" + strings.Join(busiest, ", ") + ")"
		}
		parts = append(parts, v)
	}
	load1 := -1.0
	if s, err := in.read("/proc/loadavg"); err == nil {
		if fs := strings.Fields(s); len(fs) >= 3 {
			parts = append(parts, "loadavg "+strings.Join(fs[:3], " "))
			load1, _ = strconv.ParseFloat(fs[0], 64)
		}
	}
	f.Value = strings.Join(parts, "; ")
	n := in.usable().cpus()
	if n == 0 {
		n = float64(max(ncpu, 1))
	}
	switch {
	case others > othersThreshold:
		f.Status = Warn
		f.Advice = "other processes are running: stop them or wait for them (top, or ps -eo pcpu,comm --sort=-pcpu | head); " +
			"a cell shares the CPUs with them, so its rounds vary with their load"
	case load1 > n:
		f.Status = Warn
		f.Advice = fmt.Sprintf("over the last minute more tasks wanted to run than the %s usable CPUs: if a benchmark just ended, "+
			"wait a minute; otherwise find the load with top", formatCPUs(n))
	}
	return f
}

// Steal above these shares warns: over the sample, 1 % of the time is
// already more noise than the 1-3 % a cell aims at; since boot, 2 % says
// the host is often busy, even if the sample caught a quiet moment.
const (
	stealSample = 0.01
	stealBoot   = 0.02
)

// checkSteal reads steal time: on a VM, time a vCPU was ready to run but
// the hypervisor ran another guest. It stretches whatever was running.
func checkSteal(in *inputs) Finding {
	a, b := in.before, in.after
	if a.err != nil || b.err != nil {
		return Finding{Check: "steal", Status: OK, Value: "not exposed (/proc/stat)"}
	}
	f := Finding{Check: "steal", Status: OK}
	d := b.all.minus(a.all)
	sampled, boot := 0.0, 0.0
	if d.total() > 0 {
		sampled = float64(d.steal) / float64(d.total())
	}
	if b.all.total() > 0 {
		boot = float64(b.all.steal) / float64(b.all.total())
	}
	f.Value = fmt.Sprintf("%s over %v, %s since boot", percent(sampled), in.interval, percent(boot))
	if sampled >= stealSample || boot >= stealBoot {
		f.Status = Warn
		f.Advice = "the hypervisor gives this VM's CPU time to other guests: use dedicated vCPUs (a dedicated-host " +
			"or non-burstable instance type), and compare revisions only within one interleaved job (make bench-compare)"
	}
	return f
}
