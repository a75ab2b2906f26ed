package simd

import (
	"runtime"
	"strings"
	"testing"
)

func TestHasExperiment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		version string
		want    bool
	}{
		{"go1.26.8", false},
		{"go1.26.8-X:simd", true},
		{"go1.26.8 X:simd", true},
		{"go1.26.8 X:greenteagc,simd", true},
		{"go1.26.8 X:simdfoo", false},
		{"go1.26.8 X:nosimd", false},
		{"devel go1.27-abc X:simd Tue Jan 1", true},
	}
	for _, tt := range tests {
		if got := hasExperiment(tt.version, "simd"); got != tt.want {
			t.Errorf("hasExperiment(%q) = %v, want %v", tt.version, got, tt.want)
		}
	}
}

// TestWhyAPathCannotRun covers each reason a vector path is missing: only
// a build without the experiment on a capable CPU is cured by rebuilding,
// so only that answer carries the rebuild command.
func TestWhyAPathCannotRun(t *testing.T) {
	t.Parallel()
	full := build{experiment: true, amd64: true, avx2: true, avx512: true}
	noExp := build{amd64: true, avx2: true, avx512: true}
	tests := []struct {
		name     string
		b        build
		p        KernelPath
		fallback string // fallbackReason(b)
		want     string // in whyNot(p, b)
		rebuild  bool
	}{
		{"no experiment, avx512", noExp, AVX512, "built without GOEXPERIMENT=simd", "built without GOEXPERIMENT=simd", true},
		{"no experiment, avx2", noExp, AVX2, "built without GOEXPERIMENT=simd", "built without GOEXPERIMENT=simd", true},
		{"no experiment, CPU without AVX-512", build{amd64: true, avx2: true}, AVX512, "built without GOEXPERIMENT=simd", "lacks AVX-512", false},
		{"CPU without AVX-512", build{experiment: true, amd64: true, avx2: true}, AVX512, "no vector path", "lacks AVX-512", false},
		{"old CPU", build{experiment: true, amd64: true}, AVX2, "neither AVX2 with FMA nor AVX-512", "lacks AVX2", false},
		{"old CPU, no experiment", build{amd64: true}, AVX2, "neither AVX2 with FMA nor AVX-512", "lacks AVX2", false},
		{"other architecture", build{}, AVX2, "has no archsimd kernels", "has no archsimd kernels", false},
		{"everything there", full, AVX512, "no vector path", "not built in", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := fallbackReason(tt.b); !strings.Contains(got, tt.fallback) {
				t.Errorf("fallbackReason = %q, want it to say %q", got, tt.fallback)
			}
			got := whyNot(tt.p, tt.b)
			if !strings.Contains(got, tt.want) {
				t.Errorf("whyNot(%s) = %q, want it to say %q", tt.p, got, tt.want)
			}
			if strings.Contains(got, RebuildCommand) != tt.rebuild {
				t.Errorf("whyNot(%s) = %q: rebuild command given %v, want %v", tt.p, got, !tt.rebuild, tt.rebuild)
			}
		})
	}
}

// TestFallbackMatchesThisBuild runs under both builds (make test runs the
// package with and without GOEXPERIMENT=simd): Fallback, Summary,
// FallbackWarning and ParsePath must agree with the paths that exist.
func TestFallbackMatchesThisBuild(t *testing.T) {
	fb, why := Fallback()
	if fb != (len(Paths()) == 1) {
		t.Fatalf("Fallback() = %v, but the paths here are %v", fb, Paths())
	}
	b := thisBuild()
	if !fb {
		if why != "" || FallbackWarning() != "" || strings.Contains(Summary(), "fallback") {
			t.Errorf("vector paths %v: Fallback reason %q, warning %q, summary %q; want none", Paths(), why, FallbackWarning(), Summary())
		}
		return
	}
	if !strings.HasPrefix(Summary(), "scalar fallback ("+why+")") {
		t.Errorf("Summary() = %q, want scalar fallback (%s)", Summary(), why)
	}
	w := FallbackWarning()
	if !strings.Contains(w, "scalar fallback ("+why+")") {
		t.Errorf("FallbackWarning() = %q does not give the reason %q", w, why)
	}
	if runtime.GOARCH == "amd64" && (b.avx2 || b.avx512) {
		// The case a user can cure: the binary, not the machine.
		if why != "built without GOEXPERIMENT=simd" {
			t.Errorf("reason %q, want built without GOEXPERIMENT=simd", why)
		}
		if !strings.Contains(w, RebuildCommand) {
			t.Errorf("FallbackWarning() = %q: no rebuild command", w)
		}
		_, err := ParsePath("avx2")
		if err == nil || !strings.Contains(err.Error(), RebuildCommand) {
			t.Errorf("ParsePath(avx2) = %v, want an error with %q", err, RebuildCommand)
		}
	}
	for _, p := range []string{"avx512", "avx2"} {
		if _, err := ParsePath(p); err == nil {
			t.Errorf("ParsePath(%s) succeeded on a scalar-only build", p)
		}
	}
}
