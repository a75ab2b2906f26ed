package harness

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"golang.org/x/sys/cpu"
	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/params"
)

// MachineHeader returns the configuration lines that identify where and how
// a run was measured: goos, goarch, cpu, cpu-features, gomaxprocs, go,
// goexperiment, commit, kernel.
func MachineHeader() []params.KV {
	kv := []params.KV{
		{Name: "goos", Value: runtime.GOOS},
		{Name: "goarch", Value: runtime.GOARCH},
		{Name: "cpu", Value: cpuModel()},
		{Name: "cpu-features", Value: cpuFeatures()},
		{Name: "gomaxprocs", Value: strconv.Itoa(runtime.GOMAXPROCS(0))},
		{Name: "go", Value: runtime.Version()},
		{Name: "goexperiment", Value: goExperiment()},
		{Name: "commit", Value: commit()},
		{Name: "kernel", Value: kernel()},
	}
	return kv
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func cpuFeatures() string {
	var f []string
	if cpu.X86.HasAVX2 {
		f = append(f, "avx2")
	}
	if cpu.X86.HasAVX512F {
		f = append(f, "avx512f")
	}
	if cpu.ARM64.HasASIMD {
		f = append(f, "asimd")
	}
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, ",")
}

func buildSetting(key string) string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == key {
				return s.Value
			}
		}
	}
	return ""
}

func goExperiment() string {
	if v := buildSetting("GOEXPERIMENT"); v != "" {
		return v
	}
	return "none"
}

// commit is the checkout's HEAD when run inside one (with "-dirty" when it
// has uncommitted changes), else the revision stamped into the binary.
func commit() string {
	if out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output(); err == nil {
		c := strings.TrimSpace(string(out))
		if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
			c += "-dirty"
		}
		return c
	}
	if v := buildSetting("vcs.revision"); v != "" {
		return v
	}
	return "unknown"
}

func kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}
