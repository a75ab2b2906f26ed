package simd

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/cpu"
)

// KernelPath names a kernel implementation: which vector width it uses.
type KernelPath string

const (
	// AVX512 uses 512-bit vectors (Float32x16, Uint64x8): AVX-512F+CD+BW+DQ+VL.
	AVX512 KernelPath = "avx512"
	// AVX2 uses 256-bit vectors (Float32x8, Uint64x4): AVX2 and FMA.
	AVX2 KernelPath = "avx2"
	// Scalar is unrolled scalar Go with independent accumulators: what runs
	// where archsimd does not (other GOARCHes, no GOEXPERIMENT=simd).
	Scalar KernelPath = "scalar"
)

// EnvPath is the environment variable that picks the path chosen at
// start-up ("scalar", "avx2" or "avx512"), so the fallbacks can be run and
// timed on a machine with AVX-512.
const EnvPath = "CONCBENCH_SIMD"

// Default returns the path the package uses unless told otherwise: the one
// $CONCBENCH_SIMD names, or else the widest one this CPU and build support.
// It is chosen once at start-up; an invalid $CONCBENCH_SIMD is ignored and
// reported by [DefaultErr]. Run headers record it as string(Default()).
func Default() KernelPath { return defaultPath }

// Path returns string(Default()). New code calls Default (run headers
// state Summary): Path stays only until its last caller, a test of this
// package, does too (it is not marked deprecated so that staticcheck
// stays quiet in the meantime).
func Path() string { return string(Default()) }

// DefaultErr returns why $CONCBENCH_SIMD was ignored, or nil.
func DefaultErr() error { return defaultErr }

// Paths returns the paths this build can run on this CPU, widest first;
// [Scalar] is always there, last.
func Paths() []KernelPath { return slices.Clone(supported) }

// Supported reports whether p can run here.
func Supported(p KernelPath) bool { return slices.Contains(supported, p) }

// ParsePath checks that s names a path this machine can run.
func ParsePath(s string) (KernelPath, error) {
	p := KernelPath(strings.ToLower(strings.TrimSpace(s)))
	switch p {
	case AVX512, AVX2, Scalar:
	default:
		return "", fmt.Errorf("simd: unknown kernel path %q (valid: avx512, avx2, scalar)", s)
	}
	if !Supported(p) {
		return "", fmt.Errorf("simd: kernel path %s is not supported here (supported: %s): %s",
			p, pathList(supported), whyNot(p, thisBuild()))
	}
	return p, nil
}

// RebuildCommand builds concbench with the vector kernels; make build
// does the same (the Makefile sets GOEXPERIMENT=simd).
const RebuildCommand = "GOEXPERIMENT=simd go build -o bin/concbench ./cmd/concbench"

// Fallback reports whether the simd strategy can run only its scalar
// fallback here, and why: "built without GOEXPERIMENT=simd", or what the
// CPU or architecture lacks. Forcing the scalar path on a machine with
// vector paths ($CONCBENCH_SIMD=scalar, simd.path=scalar) is a choice, not
// a fallback.
func Fallback() (fallback bool, reason string) {
	if len(supported) > 1 {
		return false, ""
	}
	return true, fallbackReason(thisBuild())
}

// Summary is the kernel path as a run header and `concbench version`
// state it: "avx512"; "scalar fallback (built without
// GOEXPERIMENT=simd)" when [Fallback] says so; "scalar (chosen by
// $CONCBENCH_SIMD)" when the variable forced it.
func Summary() string {
	if fb, why := Fallback(); fb {
		return "scalar fallback (" + why + ")"
	}
	if defaultPath != supported[0] && os.Getenv(EnvPath) != "" {
		return string(defaultPath) + " (chosen by $" + EnvPath + ")"
	}
	return string(defaultPath)
}

// FallbackWarning is what a run prints once at its start when [Fallback]
// holds: a line saying what that means for the simd cells and, when a
// rebuild cures it, a second line saying how; "" when a vector path runs.
func FallbackWarning() string {
	fb, why := Fallback()
	if !fb {
		return ""
	}
	w := "warning: simd runs its scalar fallback (" + why + "): its cells time scalar Go, not vector kernels"
	if b := thisBuild(); !b.experiment && b.amd64 && (b.avx2 || b.avx512) {
		w += "\n  rebuild with: " + RebuildCommand + " (or make build)"
	}
	return w
}

// build is what decides which kernel paths exist: the experiment the
// binary was built with, the architecture, and the CPU's features.
type build struct {
	experiment, amd64 bool
	avx2, avx512      bool // AVX2 with FMA; AVX-512 F, CD, BW, DQ and VL
}

func thisBuild() build {
	x := cpu.X86
	return build{
		experiment: hasExperiment(runtime.Version(), "simd"),
		amd64:      runtime.GOARCH == "amd64",
		avx2:       x.HasAVX2 && x.HasFMA,
		avx512:     x.HasAVX512F && x.HasAVX512CD && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL,
	}
}

// hasExperiment reports whether a runtime.Version string, which lists the
// experiments a binary was built with ("go1.26.8 X:simd,foo" or
// "go1.26.8-X:simd"), names exp.
func hasExperiment(version, exp string) bool {
	_, list, ok := strings.Cut(version, "X:")
	if !ok {
		return false
	}
	list, _, _ = strings.Cut(list, " ")
	return slices.Contains(strings.Split(list, ","), exp)
}

// fallbackReason says why b has no vector path.
func fallbackReason(b build) string {
	switch {
	case !b.amd64:
		return "GOARCH=" + runtime.GOARCH + " has no archsimd kernels"
	case !b.avx2 && !b.avx512:
		return "this CPU has neither AVX2 with FMA nor AVX-512"
	case !b.experiment:
		return "built without GOEXPERIMENT=simd"
	}
	return "no vector path"
}

// whyNot says why vector path p cannot run on b, with the rebuild command
// where rebuilding is the cure.
func whyNot(p KernelPath, b build) string {
	switch {
	case !b.amd64:
		return fallbackReason(b)
	case p == AVX512 && !b.avx512:
		return "this CPU lacks AVX-512 (F, CD, BW, DQ, VL)"
	case p == AVX2 && !b.avx2:
		return "this CPU lacks AVX2 with FMA"
	case !b.experiment:
		return "this binary was built without GOEXPERIMENT=simd; rebuild it with " + RebuildCommand + " (or make build)"
	}
	return "not built in"
}

// supported lists the paths of this build on this CPU; hardwarePaths is
// defined by the archsimd file and by its fallback twin.
var supported = hardwarePaths()

var defaultPath, defaultErr = choosePath(os.Getenv(EnvPath))

func choosePath(env string) (KernelPath, error) {
	if env == "" {
		return supported[0], nil
	}
	p, err := ParsePath(env)
	if err != nil {
		return supported[0], fmt.Errorf("$%s: %w", EnvPath, err)
	}
	return p, nil
}

func pathList(ps []KernelPath) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}
