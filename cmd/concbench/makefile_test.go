package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// make build stamps the VCS revision, which `concbench version` and the
// run header show, even where GOFLAGS turns stamping off, as it does in
// this project's environment (GOFLAGS=-buildvcs=false).
func TestMakeBuildStampsTheRevision(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make here")
	}
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "concbench")
	build := exec.Command("make", "-s", "-C", root, "build", "BIN="+bin)
	build.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	out, stderr, code := concbenchWith(t, bin, t.TempDir(), nil, "version")
	if code != exitOK {
		t.Fatalf("version: exit %d: %s", code, stderr)
	}
	if got := keyValues(t, out)["revision"]; got != strings.TrimSpace(string(head)) {
		t.Errorf("make build: revision %q, want HEAD %s", got, head)
	}
}
