package harness

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/concbench/concbench/params"
)

// benchWriterEnv makes TestBenchFileWriterProcess a writer process: the
// value is the bench file's path, then a comma and the most bytes the
// process may write to a file (RLIMIT_FSIZE: a full disk), 0 for no limit.
const benchWriterEnv = "CONCBENCH_TEST_BENCH_WRITER"

// TestBenchFileWriterProcess is not a test: run as a separate process by
// the tests below, it appends records to a bench file until it is killed
// or a write fails, then prints the error. Run as a test, it does nothing.
func TestBenchFileWriterProcess(t *testing.T) {
	env := os.Getenv(benchWriterEnv)
	if env == "" {
		return
	}
	path, limit, _ := strings.Cut(env, ",")
	bf, err := CreateBenchFile(path, []params.KV{{Name: "goos", Value: "linux"}})
	if err != nil {
		fmt.Println("create:", err)
		os.Exit(1)
	}
	if n, _ := strconv.ParseUint(limit, 10, 64); n > 0 {
		if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: n, Max: n}); err != nil {
			fmt.Println("setrlimit:", err)
			os.Exit(1)
		}
	}
	for i := 0; ; i++ {
		err := writeTestRecord(bf, i)
		if err != nil {
			fmt.Println("write:", err)
			os.Exit(0)
		}
	}
}

// writeTestRecord appends record i: a result line, or every third time a
// failure record of many lines (a panic's stack is that long).
func writeTestRecord(bf *BenchFile, i int) error {
	if i%3 == 2 {
		var reason strings.Builder
		fmt.Fprintf(&reason, "record %d: task panicked", i)
		for l := range 60 {
			fmt.Fprintf(&reason, "\nstack line %d of record %d", l, i)
		}
		return bf.WriteFailure(&Cell{Name: fmt.Sprintf("BenchmarkX/n=%d-2", i)}, errors.New(reason.String()))
	}
	return bf.WriteConfig([]params.KV{{Name: "record", Value: strconv.Itoa(i)}, {Name: "end", Value: strconv.Itoa(i)}})
}

// checkWholeRecords fails t unless path holds the header and then only
// whole records as writeTestRecord writes them, numbered from 0 on, and
// returns how many.
func checkWholeRecords(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("%s ends in a torn line: %q", path, data[max(0, len(data)-80):])
	}
	header, body, ok := bytes.Cut(data, []byte("\n\n"))
	if !ok || !bytes.HasPrefix(header, []byte("goos: linux\n")) {
		t.Fatalf("%s has no whole header: %q", path, data[:min(len(data), 200)])
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue // filling up a page before a record
		}
		if n%3 == 2 {
			if line != fmt.Sprintf("--- FAIL: BenchmarkX/n=%d-2", n) {
				t.Fatalf("record %d: %q, want its failure line", n, line)
			}
			want := []string{fmt.Sprintf("    record %d: task panicked", n)}
			for l := range 60 {
				want = append(want, fmt.Sprintf("    stack line %d of record %d", l, n))
			}
			for _, w := range want {
				if !sc.Scan() || sc.Text() != w {
					t.Fatalf("failure record %d is torn: %q, want %q", n, sc.Text(), w)
				}
			}
		} else {
			if line != fmt.Sprintf("record: %d", n) || !sc.Scan() || sc.Text() != fmt.Sprintf("end: %d", n) {
				t.Fatalf("record %d is torn: %q then %q", n, line, sc.Text())
			}
		}
		n++
	}
	return n
}

func startBenchWriter(t *testing.T, path string, limit int64) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchFileWriterProcess$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%d", benchWriterEnv, path, limit))
	return cmd
}

// Issue 14: a writer killed at any moment leaves bench.txt with whole
// records only (each is one write(2)), however often it is killed.
func TestKilledWriterLeavesWholeRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for try := range 20 {
		path := filepath.Join(dir, fmt.Sprintf("bench-%d.txt", try))
		cmd := startBenchWriter(t, path, 0)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it a different while into its writing each time.
		for deadline := time.Now().Add(10 * time.Second); ; {
			if st, err := os.Stat(path); err == nil && st.Size() > int64(1000*(try+1)) {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatal("the writer wrote nothing in 10 s")
			}
			time.Sleep(200 * time.Microsecond)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		if n := checkWholeRecords(t, path); n < 3 {
			t.Fatalf("try %d: %d records", try, n)
		}
	}
}

// A record never spans a page boundary, where a kill could cut the
// kernel's copy of it: blank lines fill the page before a record that
// would, and a failure record longer than a page is cut to one.
func TestRecordsNeverSpanAPage(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "bench.txt")
	bf, err := CreateBenchFile(path, []params.KV{{Name: "goos", Value: "linux"}})
	if err != nil {
		t.Fatal(err)
	}
	type span struct{ from, to int64 } // of each write
	var writes []span
	for i := range 301 {
		from := bf.size
		if i < 300 {
			err = writeTestRecord(bf, i)
		} else {
			long := errors.New(strings.Repeat("a panic's stack, ", 1000) + "\nand a line after it")
			err = bf.WriteFailure(&Cell{Name: "BenchmarkLong-2"}, long)
		}
		if err != nil {
			t.Fatal(err)
		}
		writes = append(writes, span{from, bf.size})
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	padded := 0
	for _, w := range writes {
		// A write is blank lines filling a page, then the record.
		start := w.from + int64(len(data[w.from:w.to])-len(bytes.TrimLeft(data[w.from:w.to], "\n")))
		if start > w.from {
			padded++
		}
		if start/int64(pageSize) != (w.to-1)/int64(pageSize) {
			t.Fatalf("the record at bytes %d to %d spans a page boundary: %q", start, w.to, data[start:min(w.to, start+80)])
		}
	}
	if padded == 0 {
		t.Error("no record needed filling before it: the test shows nothing")
	}
	if !bytes.HasSuffix(data, []byte("    ... (cut to fit the record in a page)\n")) {
		t.Errorf("the long failure record was not cut to a page: ...%q", data[max(0, len(data)-100):])
	}
	readBench(t, path) // benchfmt reads it: blank lines are nothing to it
}

// Issue 14: a write that fails part way (here the file-size limit, as a
// full disk does) is cut back off the file, and the error says so.
func TestFailedWriteLeavesWholeRecords(t *testing.T) {
	t.Parallel()
	for _, limit := range []int64{5000, 5003, 12345} {
		path := filepath.Join(t.TempDir(), "bench.txt")
		cmd := startBenchWriter(t, path, limit)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("writer: %v: %s", err, out)
		}
		if !strings.Contains(string(out), "write: bench file") || !strings.Contains(string(out), "file too large (the record was not kept)") {
			t.Errorf("limit %d: the writer ended with %q, want a failed write that was not kept", limit, out)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() >= limit {
			t.Errorf("limit %d: the file is %d bytes: the torn record was not cut off", limit, st.Size())
		}
		checkWholeRecords(t, path)
	}
}

// Issue 14: appending costs in proportion to the record, not to the file:
// the file is never rewritten (its inode stays), and the bytes this
// process hands to write(2) for a thousand records are the file's size,
// where rewriting the file whole for each record wrote 500 times as much.
func TestAppendingIsLinear(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bench.txt")
	bf, err := CreateBenchFile(path, []params.KV{{Name: "goos", Value: "linux"}})
	if err != nil {
		t.Fatal(err)
	}
	inode := func() uint64 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return st.Sys().(*syscall.Stat_t).Ino
	}
	first := inode()
	before := writtenBytes(t)
	for i := range 1000 {
		if err := writeTestRecord(bf, i); err != nil {
			t.Fatal(err)
		}
	}
	written := writtenBytes(t) - before
	if inode() != first {
		t.Error("the file was replaced, not appended to")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	// Some slack for whatever else this process writes meanwhile.
	if written > 2*st.Size() {
		t.Errorf("%d bytes written for a file of %d", written, st.Size())
	}
	if n := checkWholeRecords(t, path); n != 1000 {
		t.Errorf("%d records, want 1000", n)
	}
}

// writtenBytes is the bytes this process has passed to write(2) and the
// like (wchar in /proc/self/io).
func writtenBytes(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		t.Skip("no /proc/self/io:", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "wchar: "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Skip("no wchar in /proc/self/io")
	return 0
}
