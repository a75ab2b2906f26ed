package machinecheck

import (
	"math"
	"path"
	"slices"
	"strconv"
	"strings"
)

// cgroup is where this process's cgroup for one controller is, as a path
// under the root: the directory of its files, and the mount point above
// which limits no longer apply.
type cgroup struct {
	dir, mount string
	v1         bool
}

// findCgroup locates this process's cgroup for controller ("cpu",
// "memory"): a v1 hierarchy with that controller when there is one (a
// hybrid system mounts both), else the v2 one. ok is false when neither
// is visible.
func (in *inputs) findCgroup(controller string) (cg cgroup, ok bool) {
	self, err := in.read("/proc/self/cgroup")
	if err != nil {
		return cg, false
	}
	var v2Path, v1Path string
	haveV1, haveV2 := false, false
	for _, line := range strings.Split(self, "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		switch {
		case f[0] == "0" && f[1] == "":
			v2Path, haveV2 = f[2], true
		case slices.Contains(strings.Split(f[1], ","), controller):
			v1Path, haveV1 = f[2], true
		}
	}
	mounts, _ := in.read("/proc/self/mountinfo")
	switch {
	case haveV1:
		mnt, root := findMount(mounts, "cgroup", controller)
		if mnt == "" {
			mnt, root = "/sys/fs/cgroup/"+controller, "/"
		}
		return cgroup{dir: under(mnt, root, v1Path), mount: mnt, v1: true}, true
	case haveV2:
		mnt, root := findMount(mounts, "cgroup2", "")
		if mnt == "" {
			mnt, root = "/sys/fs/cgroup", "/"
		}
		return cgroup{dir: under(mnt, root, v2Path), mount: mnt}, true
	}
	return cg, false
}

// findMount returns the mount point and root of the first mount of type
// fstype (with controller among its super options, when given) in
// /proc/self/mountinfo.
func findMount(mountinfo, fstype, controller string) (mountPoint, root string) {
	for _, line := range strings.Split(mountinfo, "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		a, b := strings.Fields(pre), strings.Fields(post)
		if len(a) < 5 || len(b) < 3 || b[0] != fstype {
			continue
		}
		if controller != "" && !slices.Contains(strings.Split(b[2], ","), controller) {
			continue
		}
		return a[4], a[3]
	}
	return "", ""
}

// under maps a cgroup path to a directory below the mount point. A path
// outside the mount's root (a container that sees only its own cgroup,
// mounted at its root) is the mount point itself.
func under(mount, root, cgPath string) string {
	if root == "/" {
		return path.Join(mount, cgPath)
	}
	rel, ok := strings.CutPrefix(cgPath, root)
	if !ok {
		return mount
	}
	return path.Join(mount, rel)
}

// walk calls f on the cgroup's directory and each parent up to the
// mount point: a limit set on any of them applies. A directory that is
// not there (a container shown the host's path of its cgroup, mounted at
// the mount point) passes on to its parents.
func (cg cgroup) walk(f func(dir string)) {
	for dir := cg.dir; ; dir = path.Dir(dir) {
		f(dir)
		if dir == cg.mount || !strings.HasPrefix(dir, cg.mount) || dir == "/" {
			return
		}
	}
}

// cpuQuota returns the CPU bandwidth limit in CPUs (1.5: 150 ms a 100 ms
// period) and the file that sets it; ok is false when no limit is set.
func (in *inputs) cpuQuota() (cpus float64, file string, ok bool) {
	cg, found := in.findCgroup("cpu")
	if !found {
		return 0, "", false
	}
	cpus = math.Inf(1)
	cg.walk(func(dir string) {
		var q float64
		var have bool
		if cg.v1 {
			q, have = in.quotaV1(dir)
		} else {
			q, have = in.quotaV2(dir)
		}
		if have && q < cpus {
			cpus, file, ok = q, dir, true
		}
	})
	if ok {
		if cg.v1 {
			file += "/cpu.cfs_quota_us"
		} else {
			file += "/cpu.max"
		}
	}
	return cpus, file, ok
}

func (in *inputs) quotaV2(dir string) (float64, bool) {
	s, err := in.read(dir + "/cpu.max")
	if err != nil {
		return 0, false
	}
	quota, period, _ := strings.Cut(s, " ")
	q, err1 := strconv.ParseFloat(quota, 64)
	p, err2 := strconv.ParseFloat(period, 64)
	if quota == "max" || err1 != nil || err2 != nil || p <= 0 {
		return 0, false
	}
	return q / p, true
}

func (in *inputs) quotaV1(dir string) (float64, bool) {
	quota, err1 := in.read(dir + "/cpu.cfs_quota_us")
	period, err2 := in.read(dir + "/cpu.cfs_period_us")
	if err1 != nil || err2 != nil {
		return 0, false
	}
	q, err1 := strconv.ParseFloat(quota, 64)
	p, err2 := strconv.ParseFloat(period, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 { // -1: no limit
		return 0, false
	}
	return q / p, true
}

// noMemoryLimit is above any real limit: v1 reports "none" as the
// largest page-aligned int64.
const noMemoryLimit = 1 << 62

// memoryLimit returns the cgroup's memory limit and usage in bytes; ok
// is false when no limit is set.
func (in *inputs) memoryLimit() (limit, usage uint64, ok bool) {
	cg, found := in.findCgroup("memory")
	if !found {
		return 0, 0, false
	}
	limitFile, usageFile := "/memory.max", "/memory.current"
	if cg.v1 {
		limitFile, usageFile = "/memory.limit_in_bytes", "/memory.usage_in_bytes"
	}
	limit = math.MaxUint64
	cg.walk(func(dir string) {
		s, err := in.read(dir + limitFile)
		if err != nil {
			return
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil && n < noMemoryLimit && n < limit {
			limit, ok = n, true
		}
	})
	haveUsage := false // the usage of the nearest directory that has it
	cg.walk(func(dir string) {
		if s, err := in.read(dir + usageFile); err == nil && !haveUsage {
			usage, _ = strconv.ParseUint(s, 10, 64)
			haveUsage = true
		}
	})
	return limit, usage, ok
}
