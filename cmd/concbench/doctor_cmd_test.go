package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestDoctor(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	checks := []string{"cpus", "load", "steal", "governor", "turbo", "memory", "swap", "thp", "clock", "power", "counters"}

	// This machine: whatever it says, every check answers.
	out, stderr, code := concbench(t, dir, "doctor", "--interval", "100ms")
	if code != 0 {
		t.Fatalf("doctor: exit %d: %s", code, stderr)
	}
	for _, c := range checks {
		if !strings.Contains(out, "  "+c+" ") {
			t.Errorf("no %s line:\n%s", c, out)
		}
	}

	// A fake laptop, as JSON: its warnings come through with advice.
	laptop, err := filepath.Abs(filepath.Join("..", "..", "machinecheck", "testdata", "noisy-laptop"))
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code = concbench(t, dir, "doctor", "--json", "--interval", "1ms", "--root", laptop)
	if code != 0 {
		t.Fatalf("doctor --json: exit %d: %s", code, stderr)
	}
	var rep struct {
		Findings []struct{ Check, Status, Value, Advice string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("doctor --json: %v\n%s", err, out)
	}
	status := map[string]string{}
	for _, f := range rep.Findings {
		status[f.Check] = f.Status
		if f.Status == "warn" && f.Advice == "" {
			t.Errorf("%s warns without advice", f.Check)
		}
	}
	for _, c := range []string{"turbo", "governor", "thp", "clock", "power", "memory"} {
		if status[c] != "warn" {
			t.Errorf("laptop %s: status %q, want warn", c, status[c])
		}
	}
	if len(rep.Findings) != len(checks) {
		t.Errorf("%d findings, want %d", len(rep.Findings), len(checks))
	}

	for _, args := range [][]string{
		{"doctor", "--interval", "0s"},
		{"doctor", "--interval", "2h"},
		{"doctor", "--root", filepath.Join(dir, "nowhere")},
		{"doctor", "extra"},
	} {
		_, stderr, code := concbench(t, dir, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d: %s", args, code, exitUsage, stderr)
		}
	}
}
