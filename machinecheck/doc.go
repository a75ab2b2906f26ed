// Package machinecheck reports what on a Linux machine degrades
// benchmark measurements, and what to do about each: load from other
// processes, steal time on a VM, the CPU frequency governor and turbo,
// usable CPUs against GOMAXPROCS (affinity and cgroup CPU quota), memory
// and swap activity, transparent huge pages, the clock source, power from
// a battery, and whether perf events can be counted (package perfcount:
// faults, context switches, and cycles where a PMU exists). It is the
// read-only half of pyperf's `system tune`: it never changes the machine.
//
// [Check] reads /proc and /sys (under [Options.Root], so tests run it
// against a fake tree), samples the counters that need an interval
// (/proc/stat, /proc/vmstat) twice, and returns a [Report]: one [Finding]
// a check, each with a [Status] (ok or warn), the value measured and, for
// a warning, the cure. What a machine does not expose (no cpufreq on most
// VMs) is reported as "not exposed" with status ok: there is nothing to
// tune from inside.
//
// `concbench doctor` prints the whole report; every run prints
// [Report.Summary], one line, at its start and keeps it in meta.json.
//
//	rep, err := machinecheck.Check(ctx, machinecheck.Options{})
//	if err != nil {
//		return err // ctx ended during the sample
//	}
//	fmt.Println(rep.Summary()) // machine: 1 warning: load (others used 0.31 CPU ...); concbench doctor says what to do
//	rep.WriteText(os.Stdout)
package machinecheck
