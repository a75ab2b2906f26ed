package simd

import (
	"fmt"
	"os"
	"slices"
	"strings"
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

// Path returns string(Default()). New code calls Default: Path stays only
// until its one caller, cmd/concbench's run header, does too (it is not
// marked deprecated so that staticcheck stays quiet in the meantime).
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
		return "", fmt.Errorf("simd: kernel path %s is not supported here (supported: %s)", p, pathList(supported))
	}
	return p, nil
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
