package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPty opens a pseudo-terminal of cols × rows and returns its two
// ends: the terminal side, for a child's stderr, and the side that reads
// what the child drew.
func openPty(t *testing.T, cols, rows uint16) (tty, ptm *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(ptm.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		ptm.Close()
		t.Fatalf("unlock the pseudo-terminal: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		ptm.Close()
		t.Fatalf("pseudo-terminal number: %v", err)
	}
	tty, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		ptm.Close()
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: cols, Row: rows}); err != nil {
		t.Fatal(err)
	}
	return tty, ptm
}

// Issue 17, part 3, on a real terminal: with stderr on a pseudo-terminal
// the run keeps one live line, redrawn in place (mpb moves the cursor up
// and clears), that says which cell and round run, with the time elapsed
// and the ETA, within the terminal's width; the plain lines of a stderr
// that is no terminal are not written, and stdout, a pipe, still gets the
// tables. A terminal that reports no size (0×0, as script(1) leaves it)
// is taken as 80 columns, not as no room at all.
func TestRunLiveProgressOnATerminal(t *testing.T) {
	t.Parallel()
	for _, size := range []struct{ cols, rows, want uint16 }{{100, 30, 100}, {0, 0, 80}} {
		t.Run(fmt.Sprintf("%dx%d", size.cols, size.rows), func(t *testing.T) {
			t.Parallel()
			liveRun(t, size.cols, size.rows, int(size.want))
		})
	}
}

func liveRun(t *testing.T, cols, rows uint16, width int) {
	tty, ptm := openPty(t, cols, rows)
	defer ptm.Close()
	cmd := exec.Command(binary, "run", "--profile=false", "--count", "3", "--quick",
		"--workloads", "hash", "--strategies", "blocking,goroutines", "hash.tasks=50")
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "TERM=xterm")
	var stdout bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, tty
	drawn := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(ptm) // until EIO: no terminal side open any more
		drawn <- b
	}()
	err := cmd.Run()
	tty.Close()
	out := string(<-drawn)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "\x1b[1A\x1b[J") {
		t.Errorf("the live line is never redrawn in place:\n%q", out)
	}
	var frames []string
	for _, f := range strings.Split(out, "\x1b[1A\x1b[J") {
		if i := strings.Index(f, "cell "); i >= 0 {
			frames = append(frames, strings.TrimRight(f[i:], "\r\n"))
		}
	}
	if len(frames) == 0 {
		t.Fatalf("no live line:\n%q", out)
	}
	for _, f := range frames {
		// Within the width, and filling it while a cell's name is cut.
		line, _, _ := strings.Cut(f, "\r")
		if n := len([]rune(line)); n >= width || (strings.HasSuffix(line, "…") && n < width-3) {
			t.Errorf("a live line of %d columns on a terminal of %d: %q", n, width, line)
		}
		if strings.Contains(f, "round 4/") {
			t.Errorf("the warm-up round is counted: %q", f)
		}
	}
	last, _, _ := strings.Cut(frames[len(frames)-1], "\r")
	if !strings.HasPrefix(last, "cell 2/2  done") || !strings.Contains(last, " elapsed, ETA 0s") {
		t.Errorf("the last live line %q does not show the run done", last)
	}
	if strings.Contains(out, "] cell ") || strings.Contains(out, " done: Hash") {
		t.Errorf("plain progress lines on a terminal:\n%q", out)
	}
	if !strings.Contains(stdout.String(), "goroutines") {
		t.Errorf("stdout has no tables:\n%s", stdout.String())
	}
}
