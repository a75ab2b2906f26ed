package cpuprofile_test

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// captureStderr runs f with descriptor 2 pointing at a file and returns
// what was written there.
func captureStderr(t *testing.T, f func()) []byte {
	t.Helper()
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
	defer unix.Dup3(saved, 2, 0)
	f()
	data, err := os.ReadFile(file.Name())
	if err != nil {
		t.Fatal(err)
	}
	return data
}
