package machinecheck

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// inputs are what every check reads from: the tree, the process's
// GOMAXPROCS, and the two samples of the counters taken interval apart.
type inputs struct {
	root          string
	gomaxprocs    int
	interval      time.Duration
	before, after sample
}

// path returns p (an absolute /proc or /sys path) under the root.
func (in *inputs) path(p string) string { return filepath.Join(in.root, p) }

// read returns the trimmed contents of p under the root.
func (in *inputs) read(p string) (string, error) {
	b, err := os.ReadFile(in.path(p))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// glob returns the paths matching pattern under the root, without the
// root, sorted.
func (in *inputs) glob(pattern string) []string {
	m, _ := filepath.Glob(in.path(pattern)) // the only error is a bad pattern
	for i, p := range m {
		rel, _ := filepath.Rel(in.root, p)
		m[i] = "/" + rel
	}
	return m
}

// keyValues parses "Key: value" or "key value" lines (meminfo, vmstat,
// status) into a map of the first field after the key.
func keyValues(text string) map[string]string {
	kv := map[string]string{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(strings.Replace(line, ":", " ", 1))
		if len(f) >= 2 {
			kv[f[0]] = f[1]
		}
	}
	return kv
}

// cpuList parses a kernel CPU list ("0-3,8,10-11") into its CPUs.
func cpuList(s string) ([]int, error) {
	var cpus []int
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("cpu list %q: %w", s, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("cpu list %q: bad range %q", s, part)
			}
		}
		for c := a; c <= b; c++ {
			cpus = append(cpus, c)
		}
	}
	return cpus, nil
}

// cpuTimes is one line of /proc/stat in USER_HZ ticks: "cpu" (every CPU)
// or "cpuN".
type cpuTimes struct {
	name                                                  string
	user, nice, system, idle, iowait, irq, softirq, steal uint64
}

// busy is the time spent running something: user, system and interrupts.
// Guest time is already inside user and nice.
func (c cpuTimes) busy() uint64 { return c.user + c.nice + c.system + c.irq + c.softirq }

// total is every tick of the CPU, steal included.
func (c cpuTimes) total() uint64 { return c.busy() + c.idle + c.iowait + c.steal }

func (c cpuTimes) minus(o cpuTimes) cpuTimes {
	d := func(a, b uint64) uint64 {
		if a < b {
			return 0 // a counter went back (CPU hot-unplugged): no time
		}
		return a - b
	}
	return cpuTimes{name: c.name, user: d(c.user, o.user), nice: d(c.nice, o.nice), system: d(c.system, o.system),
		idle: d(c.idle, o.idle), iowait: d(c.iowait, o.iowait), irq: d(c.irq, o.irq), softirq: d(c.softirq, o.softirq),
		steal: d(c.steal, o.steal)}
}

// sample is one reading of the counters that need an interval.
type sample struct {
	all    cpuTimes   // the "cpu" line
	cpus   []cpuTimes // the "cpuN" lines
	self   uint64     // this process's user+system ticks
	vmstat map[string]string
	err    error // /proc/stat could not be read
}

// readSample reads /proc/stat, /proc/self/stat and /proc/vmstat.
func readSample(root string) sample {
	in := &inputs{root: root}
	var s sample
	stat, err := in.read("/proc/stat")
	if err != nil {
		s.err = err
	} else if s.all, s.cpus, err = parseStat(stat); err != nil {
		s.err = err
	}
	if self, err := in.read("/proc/self/stat"); err == nil {
		s.self = selfTicks(self)
	}
	if vm, err := in.read("/proc/vmstat"); err == nil {
		s.vmstat = keyValues(vm)
	}
	return s
}

func parseStat(text string) (all cpuTimes, cpus []cpuTimes, err error) {
	found := false
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.HasPrefix(f[0], "cpu") {
			continue
		}
		var v [8]uint64
		for i := range v {
			if v[i], err = strconv.ParseUint(f[i+1], 10, 64); err != nil {
				return all, nil, fmt.Errorf("/proc/stat: %s: %w", f[0], err)
			}
		}
		t := cpuTimes{f[0], v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]}
		if f[0] == "cpu" {
			all, found = t, true
		} else {
			cpus = append(cpus, t)
		}
	}
	if !found {
		return all, nil, fmt.Errorf("/proc/stat has no cpu line")
	}
	return all, cpus, nil
}

// selfTicks returns utime+stime from /proc/self/stat: fields 14 and 15,
// counted after the command name, which may hold spaces and parentheses.
func selfTicks(stat string) uint64 {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseUint(f[11], 10, 64)
	s, _ := strconv.ParseUint(f[12], 10, 64)
	return u + s
}

// percent formats a share as "12%" or, under 1 %, "0.4%".
func percent(share float64) string {
	p := 100 * share
	if p < 1 && p > 0 {
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// bytesIEC formats n bytes as "1.5 GiB", "512 MiB".
func bytesIEC(n uint64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n), ""
	for _, s := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= unit
		suffix = s
		if v < 1000 { // 1000-1023 MiB read better as 1.0 GiB
			break
		}
	}
	if v >= 10 {
		return fmt.Sprintf("%.0f %s", v, suffix)
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
