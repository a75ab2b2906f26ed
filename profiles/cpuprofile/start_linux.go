package cpuprofile

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// refusal is what the runtime prints when pprof asks for its own rate
// after ours (runtime/cpuprof.go).
var refusal = []byte("runtime: cannot set cpu profile rate until previous profile has finished.\n")

// stderrMu keeps two Starts from swapping descriptor 2 at once.
var stderrMu sync.Mutex

// startAt sets the rate, then starts pprof's profile with descriptor 2
// pointing at a pipe, so that the runtime's refusal of pprof's 100 Hz
// (printed once per start) goes nowhere. Whatever else reaches descriptor
// 2 in those microseconds is copied to the real one afterwards.
func startAt(w io.Writer, hz int) (int, error) {
	stderrMu.Lock()
	defer stderrMu.Unlock()
	restore, err := divertStderr()
	if err != nil {
		// Cannot hide the line: sample at pprof's rate rather than print it.
		return PprofRate, startPprof(w)
	}
	runtime.SetCPUProfileRate(hz)
	startErr := startPprof(w)
	restore()
	if startErr != nil {
		// Another profile was running: our SetCPUProfileRate was refused
		// as well (with the same line), so there is nothing to undo.
		return 0, startErr
	}
	return hz, nil
}

// divertStderr points descriptor 2 at a pipe and returns the function
// that points it back and forwards what the pipe caught, less the
// runtime's refusal lines.
func divertStderr() (restore func(), err error) {
	saved, err := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, err
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		unix.Close(saved)
		return nil, err
	}
	if err := unix.Dup3(p[1], 2, 0); err != nil {
		unix.Close(saved)
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, err
	}
	return func() {
		unix.Dup3(saved, 2, 0)
		unix.Close(p[1]) // the last write end but any writer still inside write(2)
		r := os.NewFile(uintptr(p[0]), "stderr-pipe")
		caught, _ := io.ReadAll(r) // EOF once every write end is closed
		r.Close()
		caught = bytes.ReplaceAll(caught, refusal, nil)
		for len(caught) > 0 {
			n, err := unix.Write(saved, caught)
			if err != nil {
				break
			}
			caught = caught[n:]
		}
		unix.Close(saved)
	}, nil
}
