package cpuprofile

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestDivertForwardsOtherOutput: what reaches descriptor 2 while it is
// diverted is written to the real one afterwards, less the refusal line.
func TestDivertForwardsOtherOutput(t *testing.T) {
	file, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	saved, err := unix.Dup(2)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(saved)
	if err := unix.Dup3(int(file.Fd()), 2, 0); err != nil {
		t.Fatal(err)
	}
	restore, err := divertStderr()
	if err != nil {
		unix.Dup3(saved, 2, 0)
		t.Fatal(err)
	}
	unix.Write(2, []byte("before\n"))
	unix.Write(2, refusal)
	unix.Write(2, []byte("after\n"))
	restore()
	unix.Dup3(saved, 2, 0)
	got, err := os.ReadFile(file.Name())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "before\nafter\n" {
		t.Errorf("forwarded %q, want %q", got, "before\nafter\n")
	}
}
