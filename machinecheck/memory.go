package machinecheck

import (
	"fmt"
	"strconv"
	"strings"
)

// minAvailable is the memory below which a run risks reclaim and swap:
// the stream workload alone allocates 256 MiB of arrays, and a run keeps
// profiles of every cell.
const minAvailable = 1 << 30

// checkMemory reads the memory available to new allocations: the
// kernel's MemAvailable, or what the cgroup's limit leaves when that is
// less.
func checkMemory(in *inputs) Finding {
	f := Finding{Check: "memory", Status: OK}
	mi, err := in.read("/proc/meminfo")
	if err != nil {
		f.Value = "not exposed (/proc/meminfo)"
		return f
	}
	kv := keyValues(mi)
	kib, err := strconv.ParseUint(kv["MemAvailable"], 10, 64)
	if err != nil {
		f.Value = "not exposed (no MemAvailable in /proc/meminfo)"
		return f
	}
	avail := kib * 1024
	f.Value = bytesIEC(avail) + " available"
	if limit, usage, ok := in.memoryLimit(); ok {
		left := uint64(0)
		if limit > usage {
			left = limit - usage
		}
		f.Value += fmt.Sprintf("; cgroup limit %s, %s of it in use", bytesIEC(limit), bytesIEC(usage))
		avail = min(avail, left)
	}
	if avail < minAvailable {
		f.Status = Warn
		f.Advice = fmt.Sprintf("under %s free: the kernel reclaims pages (or the cgroup throttles and swaps) during cells; "+
			"close memory-hungry programs, raise the limit, or measure smaller workloads", bytesIEC(minAvailable))
	}
	return f
}

// checkSwap counts pages swapped in and out during the sample: any
// swapping makes the page faults it touches cost disk time.
func checkSwap(in *inputs) Finding {
	f := Finding{Check: "swap", Status: OK}
	a, b := in.before.vmstat, in.after.vmstat
	if a == nil || b == nil {
		f.Value = "not exposed (/proc/vmstat)"
		return f
	}
	delta := func(key string) uint64 {
		x, err1 := strconv.ParseUint(a[key], 10, 64)
		y, err2 := strconv.ParseUint(b[key], 10, 64)
		if err1 != nil || err2 != nil || y < x {
			return 0
		}
		return y - x
	}
	in_, out := delta("pswpin"), delta("pswpout")
	var parts []string
	parts = append(parts, fmt.Sprintf("%d pages in, %d out over %v", in_, out, in.interval))
	if mi, err := in.read("/proc/meminfo"); err == nil {
		kv := keyValues(mi)
		total, _ := strconv.ParseUint(kv["SwapTotal"], 10, 64)
		free, _ := strconv.ParseUint(kv["SwapFree"], 10, 64)
		if total == 0 {
			parts = append(parts, "no swap configured")
		} else if total >= free {
			parts = append(parts, fmt.Sprintf("%s of %s swap in use", bytesIEC((total-free)*1024), bytesIEC(total*1024)))
		}
	}
	f.Value = strings.Join(parts, "; ")
	if in_+out > 0 {
		f.Status = Warn
		f.Advice = "the machine is swapping: free memory (close programs) until the counts stay at 0 " +
			"(vmstat 1 shows si/so), or lower vm.swappiness"
	}
	return f
}

// checkTHP reads transparent huge pages. With "always", whether a heap
// range is backed by huge pages depends on fragmentation at the moment
// it is touched, so page-fault cost and TLB misses differ between runs;
// defrag "always" adds direct compaction stalls inside allocations.
func checkTHP(in *inputs) Finding {
	f := Finding{Check: "thp", Status: OK}
	const dir = "/sys/kernel/mm/transparent_hugepage/"
	enabled, err1 := in.read(dir + "enabled")
	defrag, err2 := in.read(dir + "defrag")
	if err1 != nil {
		f.Value = "not exposed (no transparent_hugepage)"
		return f
	}
	e := selected(enabled)
	f.Value = "enabled " + e
	d := ""
	if err2 == nil {
		d = selected(defrag)
		f.Value += ", defrag " + d
	}
	var cures []string
	if e == "always" {
		cures = append(cures, "echo madvise > "+dir+"enabled")
	}
	if d == "always" {
		cures = append(cures, "echo madvise > "+dir+"defrag")
	}
	if len(cures) > 0 {
		f.Status = Warn
		f.Advice = "huge pages come and go with fragmentation, and so does the cost of touching memory: " +
			strings.Join(cures, "; ")
	}
	return f
}

// selected returns the bracketed choice of a sysfs list such as
// "always [madvise] never", or the text itself without brackets.
func selected(s string) string {
	if i := strings.IndexByte(s, '['); i >= 0 {
		if j := strings.IndexByte(s[i:], ']'); j > 0 {
			return s[i+1 : i+j]
		}
	}
	return s
}
