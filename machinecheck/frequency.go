package machinecheck

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

const cpuSys = "/sys/devices/system/cpu"

// checkGovernor reads each CPU's cpufreq governor. Any governor but
// performance changes the clock with the load, so the first rounds of a
// cell run slower than the last, and a cell that idles (I/O) runs its
// compute at a lower clock than one that does not.
func checkGovernor(in *inputs) Finding {
	f := Finding{Check: "governor", Status: OK}
	byGov := map[string][]string{}
	for _, p := range in.glob(cpuSys + "/cpu[0-9]*/cpufreq/scaling_governor") {
		g, err := in.read(p)
		if err != nil || g == "" {
			continue
		}
		cpu := path.Base(path.Dir(path.Dir(p)))
		byGov[g] = append(byGov[g], cpu)
	}
	if len(byGov) == 0 {
		f.Value = "not exposed (no cpufreq: a VM's host or the firmware sets the clock)"
		return f
	}
	govs := make([]string, 0, len(byGov))
	for g := range byGov {
		govs = append(govs, g)
	}
	sort.Strings(govs)
	var parts []string
	for _, g := range govs {
		parts = append(parts, fmt.Sprintf("%s on %d CPU%s", g, len(byGov[g]), plural(len(byGov[g]))))
		if g != "performance" {
			f.Status = Warn
		}
	}
	f.Value = strings.Join(parts, ", ")
	if f.Status == Warn {
		f.Advice = "the clock follows the load: set the performance governor, " +
			"cpupower frequency-set -g performance (or write performance to " + cpuSys + "/cpu*/cpufreq/scaling_governor)"
	}
	return f
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// checkTurbo reads turbo boost where the driver exposes it: Intel's
// intel_pstate/no_turbo, or cpufreq's boost (acpi-cpufreq, amd-pstate),
// globally or per policy. With boost on, the clock depends on how many
// cores are busy and how hot the package is, so a cell's speed depends
// on what ran before it.
func checkTurbo(in *inputs) Finding {
	f := Finding{Check: "turbo", Status: OK}
	if s, err := in.read(cpuSys + "/intel_pstate/no_turbo"); err == nil {
		if s == "1" {
			f.Value = "off (intel_pstate/no_turbo=1)"
			return f
		}
		f.Status, f.Value = Warn, "on (intel_pstate/no_turbo=0)"
		f.Advice = "turn turbo off while measuring: echo 1 > " + cpuSys + "/intel_pstate/no_turbo (echo 0 to restore)"
		return f
	}
	files := []string{cpuSys + "/cpufreq/boost"}
	files = append(files, in.glob(cpuSys+"/cpufreq/policy*/boost")...)
	var on, off []string
	for _, p := range files {
		s, err := in.read(p)
		if err != nil {
			continue
		}
		name := strings.TrimPrefix(p, cpuSys+"/")
		switch s {
		case "1":
			on = append(on, name)
		case "0":
			off = append(off, name)
		}
	}
	switch {
	case len(on) > 0:
		f.Status, f.Value = Warn, "on ("+strings.Join(on, ", ")+"=1)"
		f.Advice = "turn boost off while measuring: echo 0 > " + cpuSys + "/" + on[0] + " (echo 1 to restore)"
	case len(off) > 0:
		f.Value = "off (" + strings.Join(off, ", ") + "=0)"
	default:
		f.Value = "not exposed (no intel_pstate or cpufreq boost switch)"
	}
	return f
}
