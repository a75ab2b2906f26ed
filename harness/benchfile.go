package harness

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/concbench/concbench/params"
	"github.com/concbench/concbench/rundir"
)

// BenchFile is a bench.txt being written: Go benchmark format that
// benchstat reads. Every write rewrites the whole file to a temporary name
// and renames it over the old one, so the file on disk is always complete:
// an interrupted run keeps every finished cell and never a torn line.
type BenchFile struct {
	path string
	mu   sync.Mutex
	buf  bytes.Buffer
}

// Units whose larger values are better, declared so benchstat and compare
// read deltas the right way round.
var higherIsBetter = []string{"tasks/s", "B/s", "%bound"}

// CreateBenchFile starts path with the header: the machine's configuration,
// extra "key: value" lines, and unit declarations.
func CreateBenchFile(path string, header []params.KV) (*BenchFile, error) {
	f := &BenchFile{path: path}
	for _, kv := range header {
		fmt.Fprintf(&f.buf, "%s: %s\n", kv.Name, kv.Value)
	}
	for _, u := range higherIsBetter {
		fmt.Fprintf(&f.buf, "Unit %s better=higher\n", u)
	}
	f.buf.WriteString("\n")
	return f, f.flush()
}

// Path returns where the file is.
func (f *BenchFile) Path() string { return f.path }

// WriteConfig appends "key: value" configuration lines (benchfmt applies
// them to the results that follow).
func (f *BenchFile) WriteConfig(kvs []params.KV) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, kv := range kvs {
		fmt.Fprintf(&f.buf, "%s: %s\n", kv.Name, kv.Value)
	}
	return f.flush()
}

// WriteResult appends one benchmark line.
func (f *BenchFile) WriteResult(r *CellResult) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buf.WriteString(FormatResult(r))
	f.buf.WriteByte('\n')
	return f.flush()
}

// WriteFailure appends a go-test style failure record, which benchstat
// skips and concbench's report lists.
func (f *BenchFile) WriteFailure(c *Cell, err error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(&f.buf, "--- FAIL: %s\n", c.Name)
	for _, line := range bytes.Split([]byte(err.Error()), []byte("\n")) {
		fmt.Fprintf(&f.buf, "    %s\n", line)
	}
	return f.flush()
}

// flush replaces the file on disk with the buffer (rundir.WriteFile:
// write-then-rename, 0644).
func (f *BenchFile) flush() error {
	return rundir.WriteFile(f.path, func(w io.Writer) error {
		_, err := w.Write(f.buf.Bytes())
		return err
	})
}

// FormatResult renders a counted round as a Go benchmark line. The
// iteration count is the number of tasks and every "/op" is per task.
func FormatResult(r *CellResult) string {
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
	unit(float64(r.Wall.Nanoseconds())/n, "ns/op")
	unit(r.TasksPerSec(), "tasks/s")
	if bw, ok := r.BytesPerSec(); ok {
		unit(bw, "B/s")
	}
	unit(percentile(r.Latencies, 0.50).Seconds(), "p50-sec/op")
	unit(percentile(r.Latencies, 0.99).Seconds(), "p99-sec/op")
	unit(percentile(r.Latencies, 0.999).Seconds(), "p999-sec/op")
	unit(r.CPU.Seconds()/n, "cpu-sec/op")
	unit(r.Bound.Seconds()/n, "bound-sec/op")
	unit(100*r.Bound.Seconds()/max(r.Wall.Seconds(), 1e-12), "%bound")
	unit(float64(r.AllocBytes)/n, "B/op")
	unit(float64(r.AllocObjects)/n, "allocs/op")
	unit(float64(r.Errors)/n, "errors/op")
	unit(float64(r.Spawned)/n, "spawns/op")
	unit(float64(r.PeakGoroutines), "peak-goroutines")
	unit(float64(r.PeakThreads), "peak-threads")
	return string(b)
}
