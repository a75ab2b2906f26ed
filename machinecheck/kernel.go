package machinecheck

import (
	"path"
	"slices"
	"strconv"
	"strings"
)

// slowClocks are clock sources without a vDSO read: with them time.Now
// is a system call of about a microsecond, and the harness reads the
// clock for every task.
var slowClocks = []string{"hpet", "acpi_pm", "jiffies", "pit"}

// checkClock reads the kernel's clock source.
func checkClock(in *inputs) Finding {
	f := Finding{Check: "clock", Status: OK}
	const dir = "/sys/devices/system/clocksource/clocksource0/"
	cur, err := in.read(dir + "current_clocksource")
	if err != nil {
		f.Value = "not exposed (no clocksource in sysfs)"
		return f
	}
	f.Value = cur
	if !slices.Contains(slowClocks, cur) {
		return f
	}
	f.Status = Warn
	f.Value += " (no vDSO: every clock read is a system call)"
	avail, _ := in.read(dir + "available_clocksource")
	if slices.Contains(strings.Fields(avail), "tsc") {
		f.Advice = "switch to tsc: echo tsc > " + dir + "current_clocksource"
	} else {
		f.Advice = "the kernel found no faster clock (" + avail + "): per-task latencies include about a microsecond " +
			"of clock reading; on a VM, ask for an instance type with a stable TSC"
	}
	return f
}

// checkPower reads the power supplies: on battery, laptops lower the
// clock and the boost limits, and change them as the charge falls.
func checkPower(in *inputs) Finding {
	f := Finding{Check: "power", Status: OK}
	const dir = "/sys/class/power_supply/"
	var mains, discharging []string
	mainsOnline := false
	for _, p := range in.glob(dir + "*/type") {
		typ, err := in.read(p)
		if err != nil {
			continue
		}
		sup := path.Dir(p)
		name := path.Base(sup)
		switch typ {
		case "Mains":
			mains = append(mains, name)
			if s, _ := in.read(sup + "/online"); s == "1" {
				mainsOnline = true
			}
		case "Battery":
			if s, _ := in.read(sup + "/status"); s == "Discharging" {
				discharging = append(discharging, name)
			}
		}
	}
	switch {
	case len(discharging) > 0 || (len(mains) > 0 && !mainsOnline):
		f.Status, f.Value = Warn, "on battery"
		if len(discharging) > 0 {
			f.Value += " (" + strings.Join(discharging, ", ") + " discharging)"
		}
		f.Advice = "plug the machine in: on battery the firmware lowers the clock and boost limits as the charge falls"
	case len(mains) > 0:
		f.Value = "on mains power"
	default:
		f.Value = "no battery (a desktop, a server or a VM)"
	}
	return f
}

// checkCounters reads what concbench's event counts (package perfcount:
// page faults, context switches and migrations, and cycles and
// instructions where the CPU has a performance-monitoring unit) need.
// They count kernel time too, which perf_event_paranoid allows a user who
// is not root only at level 1 or less.
func checkCounters(in *inputs) Finding {
	f := Finding{Check: "counters", Status: OK}
	s, err := in.read("/proc/sys/kernel/perf_event_paranoid")
	if err != nil {
		f.Value = "not exposed (no perf_event_paranoid: a kernel without perf events)"
		return f
	}
	level, _ := strconv.Atoi(s)
	root := false
	if st, err := in.read("/proc/self/status"); err == nil {
		if uid := strings.Fields(strings.TrimPrefix(findLine(st, "Uid:"), "Uid:")); len(uid) >= 2 {
			root = uid[1] == "0" // the effective uid
		}
	}
	f.Value = "perf_event_paranoid " + s
	switch {
	case root:
		f.Value += " (root: counted)"
	case level <= 1:
		f.Value += " (counted)"
	default:
		f.Status = Warn
		f.Value += " (not counted: not root)"
		f.Advice = "page faults, context switches and migrations a task go uncounted: sysctl kernel.perf_event_paranoid=1, " +
			"or run concbench as root"
	}
	if in.hasPMU() {
		f.Value += "; hardware PMU present"
	} else {
		f.Value += "; no hardware PMU (usual on a VM): no cycles, instructions or IPC"
	}
	return f
}

// hasPMU reports whether the kernel exposes the CPU's
// performance-monitoring unit: "cpu" on x86 ("cpu_core" and "cpu_atom" on
// hybrid Intel), "armv8_..." on Arm.
func (in *inputs) hasPMU() bool {
	for _, p := range in.glob("/sys/bus/event_source/devices/*") {
		name := path.Base(p)
		if name == "cpu" || strings.HasPrefix(name, "cpu_") || strings.HasPrefix(name, "armv8") {
			return true
		}
	}
	return false
}

// findLine returns the first line of text that starts with prefix.
func findLine(text, prefix string) string {
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
	return ""
}
