package main

import (
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/concbench/concbench/strategies/simd"
)

const versionUsage = `Usage: concbench version

Prints what this binary is, one "key: value" line each: the module and its
version, the VCS revision it was built from and whether the tree had
uncommitted changes, the Go version, GOEXPERIMENT, the platform, and the
kernel path of the simd strategy ("scalar fallback (built without
GOEXPERIMENT=simd)" when the binary lacks the vector kernels).
`

// versionInfo is what `concbench version` prints, in order.
type versionInfo struct {
	module, version          string
	revision, time, modified string
	goVersion, goexperiment  string
	platform, simd           string
}

// unstamped is the revision of a binary without VCS information.
const unstamped = "unknown (not stamped: built outside a git checkout or with -buildvcs=false)"

// readVersion gathers versionInfo from the binary's build information,
// which go build stamps (VCS fields only when built inside a checkout
// with -buildvcs, the default there).
func readVersion() versionInfo {
	v := versionInfo{module: "unknown", version: "unknown", revision: unstamped, time: "unknown", modified: "unknown",
		goVersion: runtime.Version(), goexperiment: "none", platform: runtime.GOOS + "/" + runtime.GOARCH,
		simd: simd.Summary()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if bi.Main.Path != "" {
		v.module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		v.version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.revision = s.Value
		case "vcs.time":
			v.time = s.Value
		case "vcs.modified":
			v.modified = s.Value
		case "GOEXPERIMENT":
			if s.Value != "" {
				v.goexperiment = s.Value
			}
		}
	}
	return v
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, versionUsage) }
	if err := fs.Parse(args); err != nil {
		return flagExit(err)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "concbench version: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	v := readVersion()
	fmt.Fprintf(stdout, "module: %s\nversion: %s\nrevision: %s\ncommitted: %s\nmodified: %s\ngo: %s\ngoexperiment: %s\nplatform: %s\nsimd: %s\n",
		v.module, v.version, v.revision, v.time, v.modified, v.goVersion, v.goexperiment, v.platform, v.simd)
	return exitOK
}
