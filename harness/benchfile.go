package harness

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/concbench/concbench/params"
)

// BenchFile is a bench.txt being written: Go benchmark format that
// benchstat reads. Each record (a result line, a failure record, a block
// of configuration lines) is appended with one write(2) on a file opened
// O_APPEND, so writing a run costs time in proportion to what it writes,
// and a run killed at any moment leaves each record whole or absent:
//
//   - The kernel copies a write into the file a page at a time and stops
//     between pages when the process is killed, so a record that spanned
//     a page boundary could be cut after one of its lines. A record is
//     therefore never written across a page boundary: when it would be,
//     blank lines (which benchfmt ignores) fill the page first, in the
//     same write, and a failure record is cut to one page (its whole
//     reason is in meta.json and the command's output).
//   - A write that fails part way (a full disk) is cut back off the file
//     and reported.
type BenchFile struct {
	path string
	mu   sync.Mutex
	size int64 // bytes of whole records in the file
}

// Units whose larger values are better, and concbench's own units whose
// smaller values are, declared so benchstat and compare read deltas the
// right way round.
var (
	higherIsBetter = append([]string{"tasks/s", "B/s", "%bound", "IPC"}, ServeUnitsHigherIsBetter...)
	lowerIsBetter  = append([]string{"faults/op", "ctxsw/op", "migrations/op", "cache-misses/op"}, ServeUnitsLowerIsBetter...)
)

// CreateBenchFile starts path (replacing any file there) with the header:
// the machine's configuration, extra "key: value" lines, and unit
// declarations. The file is 0644, as every output of a run is.
func CreateBenchFile(path string, header []params.KV) (*BenchFile, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("bench file: %w", err)
	}
	err = f.Chmod(0o644) // whatever the umask
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("bench file: %w", err)
	}
	b := &BenchFile{path: path}
	var h strings.Builder
	for _, kv := range header {
		fmt.Fprintf(&h, "%s: %s\n", kv.Name, kv.Value)
	}
	for _, u := range higherIsBetter {
		fmt.Fprintf(&h, "Unit %s better=higher\n", u)
	}
	for _, u := range lowerIsBetter {
		fmt.Fprintf(&h, "Unit %s better=lower\n", u)
	}
	h.WriteString("\n")
	return b, b.append([]byte(h.String()))
}

// Path returns where the file is.
func (f *BenchFile) Path() string { return f.path }

// WriteConfig appends "key: value" configuration lines (benchfmt applies
// them to the results that follow), as one record.
func (f *BenchFile) WriteConfig(kvs []params.KV) error {
	var b []byte
	for _, kv := range kvs {
		b = fmt.Appendf(b, "%s: %s\n", kv.Name, kv.Value)
	}
	return f.append(b)
}

// WriteResult appends one benchmark line.
func (f *BenchFile) WriteResult(r *CellResult) error {
	return f.append(append([]byte(FormatResult(r)), '\n'))
}

// WriteFailure appends a go-test style failure record, which benchstat
// skips and concbench's report lists: the cell's name, then the reason,
// each of its lines indented, as many of them as fit in a page.
func (f *BenchFile) WriteFailure(c *Cell, err error) error {
	b := fmt.Appendf(nil, "--- FAIL: %s\n", c.Name)
	const cut = "    ... (cut to fit the record in a page)\n"
	for _, line := range strings.Split(err.Error(), "\n") {
		if room := pageSize - len(b) - len(cut) - len("    \n"); len(line) > room {
			b = fmt.Appendf(b, "    %s\n", line[:max(room, 0)])
			b = append(b, cut...)
			break
		}
		b = fmt.Appendf(b, "    %s\n", line)
	}
	return f.append(b)
}

// pageSize is the unit in which the kernel copies a write into a file.
var pageSize = os.Getpagesize()

// append writes record at the end of the file in one write, after blank
// lines up to the next page when the record fits in a page but would
// cross into the next. On a short or failed write it truncates the file
// back to its last whole record.
func (f *BenchFile) append(record []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if off := int(f.size % int64(pageSize)); len(record) <= pageSize && off+len(record) > pageSize {
		record = append(bytes.Repeat([]byte{'\n'}, pageSize-off), record...)
	}
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("bench file: %w", err)
	}
	defer file.Close()
	n, err := file.Write(record)
	if err != nil {
		if terr := file.Truncate(f.size); terr != nil && n > 0 {
			return fmt.Errorf("bench file %s: %w (and cutting the partial record off failed: %v)", f.path, err, terr)
		}
		return fmt.Errorf("bench file %s: %w (the record was not kept)", f.path, err)
	}
	f.size += int64(n)
	return nil
}

// FormatResult renders a counted round as a Go benchmark line. The
// iteration count is the tasks the round ran (the spec's tasks × passes),
// and every "/op" is per task: per verified task for sec/op (so that
// sec/op × tasks/s = 1), per task run for the costs (cpu, memory,
// errors). Some units appear only when they were measured:
// backend-cpu-sec/op for I/O cells with child or remote backends,
// migrations/op where the OS counters run, IPC and cache-misses/op where
// the kernel counts the hardware's events, and peak-goroutines and
// peak-threads when the cell's warm-up measured them.
func FormatResult(r *CellResult) string {
	if line, ok := FormatServeResult(r); ok {
		return line
	}
	n := float64(r.Tasks)
	var b []byte
	b = append(b, r.Cell.Name...)
	b = append(b, '\t')
	b = strconv.AppendInt(b, int64(r.Tasks), 10)
	unit := func(v float64, name string) {
		b = append(b, '\t')
		b = strconv.AppendFloat(b, v, 'g', 6, 64)
		b = append(b, ' ')
		b = append(b, name...)
	}
	secPerTask := r.SecPerTask()
	unit(secPerTask*1e9, "ns/op")
	unit(r.TasksPerSec(), "tasks/s")
	if bw, ok := r.BytesPerSec(); ok {
		unit(bw, "B/s")
	}
	unit(r.Latency.P50.Seconds(), "p50-sec/op")
	unit(r.Latency.P99.Seconds(), "p99-sec/op")
	unit(r.Latency.P999.Seconds(), "p999-sec/op")
	unit(r.CPU.Seconds()/n, "cpu-sec/op")
	if r.BackendCPUMeasured {
		unit(r.BackendCPU.Seconds()/n, "backend-cpu-sec/op")
	}
	boundPerTask := r.Bound.Seconds() / n
	unit(boundPerTask, "bound-sec/op")
	unit(100*boundPerTask/max(secPerTask, 1e-18), "%bound")
	unit(float64(r.AllocBytes)/n, "B/op")
	unit(float64(r.AllocObjects)/n, "allocs/op")
	unit(float64(r.MinorFaults)/n, "faults/op")
	unit(float64(r.CtxSwitches)/n, "ctxsw/op")
	for _, u := range r.OS.PerTask(r.Tasks) {
		unit(u.Value, u.Name)
	}
	unit(float64(r.Errors)/n, "errors/op")
	unit(float64(r.Spawned)/n, "spawns/op")
	if r.PeaksSampled {
		unit(float64(r.PeakGoroutines), "peak-goroutines")
		unit(float64(r.PeakThreads), "peak-threads")
	}
	return string(b)
}
