package testenv_test

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/concbench/concbench/internal/testenv"
)

// helperEnv names the variable that makes TestHelperNeed act: the tests
// below run this test binary again with it, so that Need's skip or
// failure ends a test of its own, whose outcome they read.
const helperEnv = "CONCBENCH_TESTENV_HELPER"

func TestHelperNeed(t *testing.T) {
	switch os.Getenv(helperEnv) {
	case "":
		return // run by go test itself: nothing to do
	case "need":
		testenv.Need(t, "frobnicator is not installed", "apt-get install -y frobnicator")
	case "lookpath":
		testenv.LookPath(t, "concbench-no-such-program", "apt-get install -y no-such-package")
	}
	t.Error("Need returned: the test went on past a missing dependency")
}

// runHelper runs TestHelperNeed in a child with mode and CI set to ci (""
// leaves CI out), and returns its output and whether it passed.
func runHelper(t *testing.T, mode, ci string) (string, bool) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperNeed$", "-test.v", "-test.count=1")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, testenv.EnvCI+"=") {
			env = append(env, kv)
		}
	}
	env = append(env, helperEnv+"="+mode)
	if ci != "" {
		env = append(env, testenv.EnvCI+"="+ci)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return string(out), err == nil
}

func TestNeed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		mode, ci   string
		pass       bool
		verdict    string
		what, cure string
	}{
		{"need", "", true, "--- SKIP: TestHelperNeed", "frobnicator is not installed", "apt-get install -y frobnicator"},
		{"need", "false", true, "--- SKIP: TestHelperNeed", "frobnicator is not installed", "apt-get install -y frobnicator"},
		{"need", "true", false, "--- FAIL: TestHelperNeed", "frobnicator is not installed", "apt-get install -y frobnicator"},
		{"need", "1", false, "--- FAIL: TestHelperNeed", "frobnicator is not installed", "apt-get install -y frobnicator"},
		{"lookpath", "", true, "--- SKIP: TestHelperNeed", "concbench-no-such-program is not on PATH", "apt-get install -y no-such-package"},
		{"lookpath", "true", false, "--- FAIL: TestHelperNeed", "concbench-no-such-program is not on PATH", "apt-get install -y no-such-package"},
	} {
		t.Run(tc.mode+"/CI="+tc.ci, func(t *testing.T) {
			t.Parallel()
			out, passed := runHelper(t, tc.mode, tc.ci)
			if passed != tc.pass || !strings.Contains(out, tc.verdict) {
				t.Fatalf("passed=%v, want %v with %q; output:\n%s", passed, tc.pass, tc.verdict, out)
			}
			for _, s := range []string{tc.what, tc.cure, "CI=true"} {
				if !strings.Contains(out, s) {
					t.Errorf("output does not say %q:\n%s", s, out)
				}
			}
			if strings.Contains(out, "Need returned") {
				t.Errorf("the test went on after Need:\n%s", out)
			}
		})
	}
}

func TestLookPathFindsAProgram(t *testing.T) {
	t.Parallel()
	want, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh on PATH: this machine cannot run the check")
	}
	if got := testenv.LookPath(t, "sh", "apt-get install -y dash"); got != want {
		t.Errorf("LookPath(sh) = %q, want %q", got, want)
	}
}
