package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"

	"github.com/concbench/concbench/strategies/simd"
)

// keyValues parses version's "key: value" lines.
func keyValues(t *testing.T, out string) map[string]string {
	t.Helper()
	kv := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		if !ok {
			t.Fatalf("line %q is not key: value", line)
		}
		kv[k] = v
	}
	return kv
}

// TestVersion checks each line of `concbench version` against what the
// test knows independently: the binary was built by this test's toolchain
// with this test's GOEXPERIMENT, from this checkout. It builds its own
// binary with -buildvcs=true, since GOFLAGS may turn stamping off.
func TestVersion(t *testing.T) {
	t.Parallel()
	head, gitErr := exec.Command("git", "rev-parse", "HEAD").Output()
	bin := binary
	if gitErr == nil {
		bin = filepath.Join(t.TempDir(), "concbench-vcs")
		if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build -buildvcs=true: %v\n%s", err, out)
		}
	}
	out, stderr, code := concbenchWith(t, bin, t.TempDir(), nil, "version")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	kv := keyValues(t, out)
	exp := os.Getenv("GOEXPERIMENT")
	if exp == "" {
		exp = "none"
	}
	want := map[string]string{
		"module":       "github.com/concbench/concbench",
		"go":           runtime.Version(), // the same toolchain and experiments built both
		"goexperiment": exp,
		"platform":     runtime.GOOS + "/" + runtime.GOARCH,
		"simd":         simd.Summary(),
	}
	for k, v := range want {
		if kv[k] != v {
			t.Errorf("%s: %q, want %q", k, kv[k], v)
		}
	}
	for _, k := range []string{"version", "revision", "committed", "modified"} {
		if kv[k] == "" {
			t.Errorf("no %s line:\n%s", k, out)
		}
	}
	if gitErr != nil {
		t.Logf("no git checkout (%v): revision not checked", gitErr)
		return
	}
	if got := kv["revision"]; got != strings.TrimSpace(string(head)) {
		t.Errorf("revision %q, want HEAD %s", got, head)
	}
	// go build counts untracked files as modifications, as git status does.
	status, err := exec.Command("git", "status", "--porcelain").Output()
	if err == nil && len(status) > 0 && kv["modified"] != "true" {
		t.Errorf("modified: %q in a checkout with changes:\n%s", kv["modified"], status)
	}
}

// TestScalarFallbackIsNamed builds concbench without the simd experiment,
// as a user who skips the Makefile would, and checks that it says so: in
// version, and when a vector path is forced, with the rebuild command.
func TestScalarFallbackIsNamed(t *testing.T) {
	t.Parallel()
	if runtime.GOARCH != "amd64" || !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no vector path here even with the experiment: nothing to fall back from")
	}
	bin := filepath.Join(t.TempDir(), "concbench-nosimd")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Env = append(os.Environ(), "GOEXPERIMENT=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build without the experiment: %v\n%s", err, out)
	}
	dir := t.TempDir()
	out, stderr, code := concbenchWith(t, bin, dir, nil, "version")
	if code != 0 {
		t.Fatalf("version: exit %d: %s", code, stderr)
	}
	kv := keyValues(t, out)
	if got, want := kv["simd"], "scalar fallback (built without GOEXPERIMENT=simd)"; got != want {
		t.Errorf("simd: %q, want %q", got, want)
	}
	if kv["goexperiment"] != "none" {
		t.Errorf("goexperiment: %q, want none", kv["goexperiment"])
	}
	for _, path := range []string{"avx512", "avx2"} {
		if path == "avx512" && !(cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512CD) {
			continue // the CPU, not the build, refuses it: no rebuild advice
		}
		_, stderr, code := concbenchWith(t, bin, dir, nil, "run", "--quiet", "--profile=false", "--workloads", "noop",
			"--strategies", "simd", "simd.path="+path)
		if code != exitUsage {
			t.Errorf("simd.path=%s without the experiment: exit %d, want %d\n%s", path, code, exitUsage, stderr)
		}
		for _, want := range []string{"built without GOEXPERIMENT=simd", simd.RebuildCommand, "make build"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("simd.path=%s: stderr does not say %q:\n%s", path, want, stderr)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a refused run created a run folder")
	}
}
