package testenv

import (
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// EnvCI is the environment variable that says the tests run in CI, where
// every dependency is installed: .ci/run sets it to "true", as GitHub
// Actions and most CI services do.
const EnvCI = "CI"

// InCI reports whether $CI holds a true value ("true", "1", ...): whether
// a missing dependency fails a test instead of skipping it.
func InCI() bool {
	ci, err := strconv.ParseBool(os.Getenv(EnvCI))
	return err == nil && ci
}

// Need ends t because a dependency is missing: what says what is missing
// (and why, if known), cure how to install it. Outside CI the test is
// skipped with both; under CI=true it fails with both, since .ci/run
// installs every dependency. Call it from the test's goroutine, as
// t.Skip and t.Fatal require.
func Need(t testing.TB, what, cure string) {
	t.Helper()
	if InCI() {
		t.Fatalf("missing dependency: %s; install it with: %s (%s=true: .ci/run installs every dependency, so a missing one fails the test instead of skipping it)",
			what, cure, EnvCI)
	}
	t.Skipf("missing dependency: %s; install it with: %s (under %s=true this test fails instead of skipping)", what, cure, EnvCI)
}

// LookPath returns the path of the executable name found on PATH, or ends
// t with [Need], cure saying how to install it.
func LookPath(t testing.TB, name, cure string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Need(t, name+" is not on PATH", cure)
	}
	return path
}
