package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
)

// Read reads the named benchmark files into one Set, streaming: it keeps
// what the statistics need (see Set), never a whole file. A file that
// cannot be read is an error, and so is any syntax error or impossible
// value (NaN, infinite, negative, an error rate above one, an iteration
// count below one, a unit twice on a line), which the error locates as
// file:line. A last line
// without its newline, as a writer killed mid-line leaves, is ignored
// with a warning in Set.Warnings.
//
// Each result carries the benchfmt ".file" configuration key naming its
// file, as benchfmt.Files sets it.
func Read(paths ...string) (*Set, error) {
	d := newDecoder()
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("results: %w", err)
		}
		d.decode(f, path)
		f.Close()
	}
	return d.finish()
}

// Decode reads one benchmark stream into a new Set, as Read reads a file.
// The name stands for the stream in errors and in the ".file"
// configuration key.
func Decode(r io.Reader, name string) (*Set, error) {
	d := newDecoder()
	d.decode(r, name)
	return d.finish()
}

// maxErrors is how many errors Read lists before it only counts them:
// a file of garbage could otherwise hold millions.
const maxErrors = 20

// A decoder accumulates a Set across files. One benchfmt.Reader serves
// every file, as in benchfmt.Files, so that unit metadata declared in
// one file applies to all and conflicting declarations are reported.
type decoder struct {
	reader benchfmt.Reader
	set    *Set
	errs   []error
	more   int // errors beyond maxErrors

	// byConfig finds a cell's result by configuration, then name.
	byConfig []map[string]*benchfmt.Result
	// configs are the distinct configurations met, and configIndex
	// finds one by its content.
	configs     [][]benchfmt.Config
	configIndex map[string]int
	last        int // index of the configuration of the last line, or -1
	seenUnit    map[string]bool
}

func newDecoder() *decoder {
	return &decoder{
		set:         &Set{rounds: make(map[*benchfmt.Result]*Rounds)},
		configIndex: make(map[string]int),
		last:        -1,
		seenUnit:    make(map[string]bool),
	}
}

func (d *decoder) fail(err error) {
	if len(d.errs) < maxErrors {
		d.errs = append(d.errs, err)
	} else {
		d.more++
	}
}

func (d *decoder) decode(r io.Reader, name string) {
	lines := newLineReader(r, name)
	d.reader.Reset(lines, name, ".file", name)
	for d.reader.Scan() {
		switch rec := d.reader.Result().(type) {
		case *benchfmt.SyntaxError:
			d.fail(rec)
		case *benchfmt.Result:
			if err := checkValues(rec); err != nil {
				d.fail(err)
				continue
			}
			d.add(rec)
		}
	}
	if err := d.reader.Err(); err != nil {
		d.fail(err)
	}
	if err := lines.err; err != nil && !errors.Is(err, io.EOF) {
		d.fail(fmt.Errorf("read %s: %w", name, err))
	}
	d.set.Failures = append(d.set.Failures, lines.failures.list...)
	if lines.torn != "" {
		d.set.Warnings = append(d.set.Warnings, lines.torn)
	}
}

// add files one line's result under its cell. The reader reuses rec, so
// whatever is kept is copied.
func (d *decoder) add(rec *benchfmt.Result) {
	c := d.configOf(rec.Config)
	byName := d.byConfig[c]
	r, ok := byName[string(rec.Name)]
	if !ok {
		r = rec.Clone()
		r.Config = d.configs[c]
		byName[string(r.Name)] = r
		d.set.Results = append(d.set.Results, r)
		d.set.rounds[r] = &Rounds{}
	}
	d.set.rounds[r].add(rec.Iters, rec.Values)
	for _, v := range rec.Values {
		if !d.seenUnit[v.Unit] {
			d.seenUnit[v.Unit] = true
			d.set.unitOrder = append(d.set.unitOrder, v.Unit)
		}
	}
}

// configOf returns the index of the configuration cfg, which the reader
// reuses: the last line's, most of the time, without copying anything.
func (d *decoder) configOf(cfg []benchfmt.Config) int {
	if d.last >= 0 && sameConfig(d.configs[d.last], cfg) {
		return d.last
	}
	var key strings.Builder
	for _, c := range cfg {
		fmt.Fprintf(&key, "%q=%q:%t\n", c.Key, c.Value, c.File)
	}
	i, ok := d.configIndex[key.String()]
	if !ok {
		own := make([]benchfmt.Config, len(cfg))
		for j, c := range cfg {
			own[j] = benchfmt.Config{Key: c.Key, Value: bytes.Clone(c.Value), File: c.File}
		}
		i = len(d.configs)
		d.configs = append(d.configs, own)
		d.byConfig = append(d.byConfig, make(map[string]*benchfmt.Result))
		d.configIndex[key.String()] = i
	}
	d.last = i
	return i
}

func sameConfig(a, b []benchfmt.Config) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || a[i].File != b[i].File || !bytes.Equal(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func (d *decoder) finish() (*Set, error) {
	if len(d.errs) > 0 {
		if d.more > 0 {
			d.errs = append(d.errs, fmt.Errorf("and %d more errors", d.more))
		}
		return nil, fmt.Errorf("results: %w", errors.Join(d.errs...))
	}
	d.set.Units = d.reader.Units()
	if d.set.Units == nil {
		d.set.Units = make(benchfmt.UnitMetadataMap)
	}
	return d.set, nil
}

// checkValues rejects measurements that no benchmark can produce: NaN
// and infinities (either sends the Mann-Whitney U test of
// github.com/aclements/go-moremath into an endless loop), negative
// values of units that count or time something (see cannotBeNegative),
// an error rate above one failed task per task, an iteration count
// below one, and a unit twice on one line (which testing.B cannot write). Each would print as a figure ("improved -102.45%") instead
// of what it is: a broken writer.
func checkValues(r *benchfmt.Result) error {
	file, line := r.Pos()
	if r.Iters < 1 {
		return fmt.Errorf("%s:%d: %d iterations, not a measurement (want at least 1)", file, line, r.Iters)
	}
	for i, v := range r.Values {
		switch {
		case slices.ContainsFunc(r.Values[:i], func(w benchfmt.Value) bool { return w.Unit == v.Unit }):
			return fmt.Errorf("%s:%d: %s twice on one line: which is the measurement?", file, line, v.Unit)
		case math.IsNaN(v.Value) || math.IsInf(v.Value, 0):
			return fmt.Errorf("%s:%d: %s is %v, not a measurement", file, line, v.Unit, v.Value)
		case v.Value < 0 && cannotBeNegative(v.Unit):
			return fmt.Errorf("%s:%d: %s is %v: a time, count or rate cannot be negative", file, line, v.Unit, v.Value)
		case v.Unit == ErrorsUnit && v.Value > 1:
			return fmt.Errorf("%s:%d: %s is %v: more failed tasks than tasks", file, line, v.Unit, v.Value)
		}
	}
	return nil
}

// cannotBeNegative reports whether unit measures something that is never
// below zero: times and counts per op ("sec/op", "B/op", "faults/op"),
// rates ("tasks/s", "B/s"), percentages ("%bound") and peaks
// ("peak-threads"). Other units, such as a custom signed metric that a
// Go benchmark reports, may be negative.
func cannotBeNegative(unit string) bool {
	return strings.HasSuffix(unit, "/op") || strings.HasSuffix(unit, "/s") ||
		strings.HasPrefix(unit, "%") || strings.HasPrefix(unit, "peak-")
}

// A lineReader hands benchfmt whole lines only: a last line without its
// newline (a writer killed mid-line) is held back and reported in torn,
// since its number may be cut short ("12" of "1234") and still parse. On
// the way it finds the "--- FAIL:" records, which benchfmt skips.
type lineReader struct {
	src  io.Reader
	name string
	// buf holds bytes read from src: buf[start:ready] are whole lines
	// not yet handed on, buf[ready:scanned] was searched for a newline
	// in vain, buf[scanned:] is still to search.
	buf                   []byte
	start, ready, scanned int
	line                  int // lines seen so far
	err                   error
	failures              failureParser
	torn                  string
}

// lineChunk is how much a lineReader asks of its source at a time.
const lineChunk = 64 << 10

// maxLine is the longest line a lineReader holds back while it waits for
// the newline: benchfmt's own limit (bufio.MaxScanTokenSize). A longer
// line is handed on as it is, for benchfmt to reject.
const maxLine = 64 << 10

func newLineReader(r io.Reader, name string) *lineReader {
	lr := &lineReader{src: r, name: name}
	lr.failures.file = name
	return lr
}

func (lr *lineReader) Read(p []byte) (int, error) {
	for lr.start == lr.ready {
		if lr.err != nil {
			lr.finish()
			return 0, io.EOF
		}
		// Move the partial line to the front, and make room.
		n := copy(lr.buf, lr.buf[lr.start:])
		lr.buf = lr.buf[:n]
		lr.scanned -= lr.start
		lr.start, lr.ready = 0, 0
		if len(lr.buf) > maxLine {
			// No newline in sight: hand the bytes on and let
			// benchfmt say the line is too long.
			lr.ready, lr.scanned = len(lr.buf), len(lr.buf)
			break
		}
		if cap(lr.buf)-len(lr.buf) < lineChunk {
			lr.buf = append(make([]byte, 0, len(lr.buf)+2*lineChunk), lr.buf...)
		}
		n, err := lr.src.Read(lr.buf[len(lr.buf):cap(lr.buf)])
		lr.buf = lr.buf[:len(lr.buf)+n]
		lr.err = err
		if i := bytes.LastIndexByte(lr.buf[lr.scanned:], '\n'); i >= 0 {
			lr.ready = lr.scanned + i + 1
			lr.observe(lr.buf[:lr.ready])
		}
		lr.scanned = len(lr.buf)
	}
	n := copy(p, lr.buf[lr.start:lr.ready])
	lr.start += n
	return n, nil
}

// observe counts the lines of whole and feeds them to the failure parser.
func (lr *lineReader) observe(whole []byte) {
	for len(whole) > 0 {
		i := bytes.IndexByte(whole, '\n')
		lr.line++
		lr.failures.line(lr.line, bytes.TrimSuffix(whole[:i], []byte("\r")))
		whole = whole[i+1:]
	}
}

// finish reports the bytes left after the last newline, if any.
func (lr *lineReader) finish() {
	rest := lr.buf[lr.start:]
	if len(bytes.TrimSpace(rest)) > 0 && lr.torn == "" {
		lr.torn = fmt.Sprintf("%s:%d: ignored a torn last line (%d bytes without a newline: was its writer killed?)",
			lr.name, lr.line+1, len(rest))
	}
	lr.buf, lr.start, lr.ready, lr.scanned = lr.buf[:0], 0, 0, 0
	lr.failures.flush()
}
