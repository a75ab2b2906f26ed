package machinecheck

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fake returns the inputs of a machine in testdata: its tree, and its two
// samples (the second from its later/ folder, a second apart).
func fake(machine string, gomaxprocs int) *inputs {
	root := filepath.Join("testdata", machine)
	return &inputs{root: root, gomaxprocs: gomaxprocs, interval: time.Second,
		before: readSample(root), after: readSample(filepath.Join(root, "later"))}
}

// The machines in testdata:
//   - quiet-vm: this project's 2-vCPU VM when nothing else runs (cgroup
//     v1 mounted beside v2, no cpufreq, kvm-clock): nothing to warn about.
//   - noisy-laptop: 4 CPUs on battery, powersave, turbo on, THP always,
//     the hpet clock, swapping, a process busy on cpu1, not root with
//     perf_event_paranoid 3.
//   - container-v2: a Kubernetes container with 1.5 CPUs of quota under
//     a pod of 2, a 512 MiB memory limit, boost on, 5 % steal.
//   - container-v1: Docker on cgroup v1, 1 CPU of quota, a cgroup path
//     the container sees only as its mount's root.
//   - bare: nothing exposed at all.
func TestChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		machine    string
		gomaxprocs int
		check      func(*inputs) Finding
		status     Status
		says       []string // in the value or the advice
	}{
		{"quiet-vm", 2, checkCPUs, OK, []string{"GOMAXPROCS 2, 2 online, affinity 0-1, no CPU quota"}},
		{"quiet-vm", 4, checkCPUs, Warn, []string{"GOMAXPROCS 4 is above the 2 usable CPUs", "time-share"}},
		{"quiet-vm", 1, checkCPUs, Warn, []string{"GOMAXPROCS 1 leaves 1 of the 2 usable CPUs idle", "-1"}},
		{"quiet-vm", 2, checkLoad, OK, []string{"others used 0.00 CPU over 1s", "loadavg 0.08 0.10 0.09"}},
		{"quiet-vm", 2, checkSteal, OK, []string{"0% over 1s, 0% since boot"}},
		{"quiet-vm", 2, checkGovernor, OK, []string{"not exposed"}},
		{"quiet-vm", 2, checkTurbo, OK, []string{"not exposed"}},
		{"quiet-vm", 2, checkMemory, OK, []string{"23 GiB available"}},
		{"quiet-vm", 2, checkSwap, OK, []string{"0 pages in, 0 out over 1s", "no swap configured"}},
		{"quiet-vm", 2, checkTHP, OK, []string{"enabled madvise, defrag madvise"}},
		{"quiet-vm", 2, checkClock, OK, []string{"kvm-clock"}},
		{"quiet-vm", 2, checkPower, OK, []string{"no battery"}},
		{"quiet-vm", 2, checkCounters, OK, []string{"perf_event_paranoid 2 (root: counted); no hardware PMU"}},

		{"noisy-laptop", 4, checkCPUs, OK, []string{"GOMAXPROCS 4, 4 online, affinity 0-3, no CPU quota"}},
		{"noisy-laptop", 4, checkLoad, Warn, []string{"others used 0.61 CPU over 1s (cpu1 60%)", "loadavg 3.10", "stop them"}},
		{"noisy-laptop", 4, checkSteal, OK, []string{"0% over 1s"}},
		{"noisy-laptop", 4, checkGovernor, Warn, []string{"powersave on 4 CPUs", "cpupower frequency-set -g performance"}},
		{"noisy-laptop", 4, checkTurbo, Warn, []string{"on (intel_pstate/no_turbo=0)", "echo 1 > /sys/devices/system/cpu/intel_pstate/no_turbo"}},
		{"noisy-laptop", 4, checkMemory, Warn, []string{"586 MiB available", "under 1.0 GiB free"}},
		{"noisy-laptop", 4, checkSwap, Warn, []string{"60 pages in, 40 out over 1s", "1.0 GiB of 2.0 GiB swap in use", "swapping"}},
		{"noisy-laptop", 4, checkTHP, Warn, []string{"enabled always, defrag always",
			"echo madvise > /sys/kernel/mm/transparent_hugepage/enabled", "echo madvise > /sys/kernel/mm/transparent_hugepage/defrag"}},
		{"noisy-laptop", 4, checkClock, Warn, []string{"hpet (no vDSO", "no faster clock (hpet acpi_pm)"}},
		{"noisy-laptop", 4, checkPower, Warn, []string{"on battery (BAT0 discharging)", "plug the machine in"}},
		{"noisy-laptop", 4, checkCounters, Warn, []string{"perf_event_paranoid 3 (not counted: not root); hardware PMU present",
			"sysctl kernel.perf_event_paranoid=1"}},

		{"container-v2", 2, checkCPUs, Warn, []string{"GOMAXPROCS 2, 8 online, affinity 0-7, CPU quota 1.50 (/sys/fs/cgroup/kubepods/pod1/ctr/cpu.max)",
			"above the CPU quota of 1.50", "GOMAXPROCS=1"}},
		{"container-v2", 1, checkCPUs, Warn, []string{"fewer than 2 usable CPUs (1.50)"}},
		{"container-v2", 2, checkLoad, OK, []string{"others used 0.00 CPU", "loadavg 0.50"}},
		{"container-v2", 2, checkSteal, Warn, []string{"5% over 1s, 3% since boot", "dedicated vCPUs"}},
		{"container-v2", 2, checkGovernor, OK, []string{"performance on 8 CPUs"}},
		{"container-v2", 2, checkTurbo, Warn, []string{"on (cpufreq/boost=1)", "echo 0 > /sys/devices/system/cpu/cpufreq/boost"}},
		{"container-v2", 2, checkMemory, Warn, []string{"cgroup limit 512 MiB, 100 MiB of it in use", "raise the limit"}},
		{"container-v2", 2, checkTHP, OK, []string{"enabled never"}},
		{"container-v2", 2, checkClock, OK, []string{"tsc"}},
		{"container-v2", 2, checkCounters, OK, []string{"perf_event_paranoid -1 (root: counted); hardware PMU present"}},

		{"container-v1", 1, checkCPUs, Warn, []string{"CPU quota 1 (/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us)", "fewer than 2 usable CPUs (1)"}},
		{"container-v1", 4, checkCPUs, Warn, []string{"above the CPU quota of 1", "GOMAXPROCS=1"}},
		{"container-v1", 1, checkLoad, OK, []string{"others used 0.00 CPU"}},
		{"container-v1", 1, checkGovernor, Warn, []string{"performance on 1 CPU, schedutil on 1 CPU"}},
		{"container-v1", 1, checkTurbo, OK, []string{"off (cpufreq/policy0/boost, cpufreq/policy1/boost=0)"}},
		{"container-v1", 1, checkMemory, OK, []string{"cgroup limit 2.0 GiB, 512 MiB of it in use"}},
		{"container-v1", 1, checkPower, OK, []string{"on mains power"}},
		{"container-v1", 1, checkCounters, OK, []string{"perf_event_paranoid 1 (root: counted)"}},

		{"bare", 2, checkCPUs, OK, []string{"GOMAXPROCS 2, no CPU quota; usable CPUs not exposed"}},
		{"bare", 2, checkLoad, OK, []string{"not exposed"}},
		{"bare", 2, checkSteal, OK, []string{"not exposed"}},
		{"bare", 2, checkGovernor, OK, []string{"not exposed"}},
		{"bare", 2, checkTurbo, OK, []string{"not exposed"}},
		{"bare", 2, checkMemory, OK, []string{"not exposed"}},
		{"bare", 2, checkSwap, OK, []string{"not exposed"}},
		{"bare", 2, checkTHP, OK, []string{"not exposed"}},
		{"bare", 2, checkClock, OK, []string{"not exposed"}},
		{"bare", 2, checkPower, OK, []string{"no battery"}},
		{"bare", 2, checkCounters, OK, []string{"not exposed"}},
	}
	for _, tt := range tests {
		f := tt.check(fake(tt.machine, tt.gomaxprocs))
		t.Run(tt.machine+"/"+f.Check, func(t *testing.T) {
			if f.Status != tt.status {
				t.Errorf("status %s, want %s: %+v", f.Status, tt.status, f)
			}
			if f.Status == Warn && f.Advice == "" {
				t.Errorf("a warning without advice: %+v", f)
			}
			for _, s := range tt.says {
				if !strings.Contains(f.Value+" | "+f.Advice, s) {
					t.Errorf("does not say %q:\nvalue:  %s\nadvice: %s", s, f.Value, f.Advice)
				}
			}
		})
	}
}

func TestCPUList(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
		bad  bool
	}{
		{"0", 1, false}, {"0-1", 2, false}, {"0-3,8,10-11", 7, false}, {"", 0, false},
		{"3-1", 0, true}, {"a", 0, true}, {"0-x", 0, true},
	}
	for _, tt := range tests {
		got, err := cpuList(tt.in)
		if (err != nil) != tt.bad || len(got) != tt.want {
			t.Errorf("cpuList(%q) = %v, %v; want %d CPUs, error %v", tt.in, got, err, tt.want, tt.bad)
		}
	}
}

// TestSelfTicks: the command name may hold spaces and parentheses.
func TestSelfTicks(t *testing.T) {
	t.Parallel()
	got := selfTicks("4242 (a) b (c)) S 1 1 1 0 -1 4194304 100 0 0 0 17 4 0 0 20")
	if got != 21 {
		t.Errorf("selfTicks = %d, want 17+4", got)
	}
}

func TestSummary(t *testing.T) {
	t.Parallel()
	quiet := fake("quiet-vm", 2).report()
	if got, want := quiet.Summary(), "machine: ok (11 checks)"; got != want {
		t.Errorf("quiet-vm: %q, want %q", got, want)
	}
	noisy := fake("noisy-laptop", 4).report()
	s := noisy.Summary()
	if len([]rune(s)) > summaryWidth {
		t.Errorf("summary of %d columns, want at most %d: %s", len([]rune(s)), summaryWidth, s)
	}
	for _, want := range []string{"machine: 9 warnings", "load", "governor", "turbo", "memory", "swap", "thp", "clock", "power", "counters",
		"concbench doctor says what to do"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
	one := &Report{Findings: []Finding{{Check: "turbo", Status: Warn, Value: "on (intel_pstate/no_turbo=0)"}, {Check: "cpus", Status: OK}}}
	if got, want := one.Summary(), "machine: 1 warning: turbo (on (intel_pstate/no_turbo=0)); concbench doctor says what to do"; got != want {
		t.Errorf("one warning: %q, want %q", got, want)
	}
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	if err := fake("noisy-laptop", 4).report().WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"WARN  turbo", "ok    cpus", "→ turn turbo off", "9 of 11 checks warn"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if n := len([]rune(line)); n > textWidth {
			t.Errorf("line of %d columns: %s", n, line)
		}
	}
}

// TestCheckThisMachine runs every check on the real /proc and /sys: it
// cannot know what this machine should say, only that it says something
// for each check and that the report survives JSON.
func TestCheckThisMachine(t *testing.T) {
	t.Parallel()
	rep, err := Check(context.Background(), Options{Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Findings) != len(checks) {
		t.Fatalf("%d findings, want %d", len(rep.Findings), len(checks))
	}
	for _, f := range rep.Findings {
		if f.Check == "" || f.Value == "" || (f.Status != OK && f.Status != Warn) || (f.Status == Warn && f.Advice == "") {
			t.Errorf("incomplete finding %+v", f)
		}
	}
	if !strings.HasPrefix(rep.Summary(), "machine: ") {
		t.Errorf("summary %q", rep.Summary())
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil || len(back.Findings) != len(rep.Findings) {
		t.Errorf("JSON round trip: %v, %d findings", err, len(back.Findings))
	}
}

func TestCheckEndsWithItsContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// Check watches its counters for a minute: the cancelled context must
	// end it without that wait. The watchdog turns a Check that waits out its
	// interval into a failure (a bound on a hang, not a timing assertion).
	done := make(chan error, 1)
	go func() {
		_, err := Check(ctx, Options{Interval: time.Minute, Root: filepath.Join("testdata", "quiet-vm")})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Check = %v, want context.Canceled", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Check still waits 30 s after its context was cancelled")
	}
}
