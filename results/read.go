package results

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"golang.org/x/perf/benchfmt"
)

// Read reads the named benchmark files into one Set. A file that cannot
// be read is an error, and so is any syntax error, which the error
// locates as file:line.
//
// Each result carries the benchfmt ".file" configuration key naming its
// file, as benchfmt.Files sets it.
func Read(paths ...string) (*Set, error) {
	var d decoder
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("results: %w", err)
		}
		d.decode(data, path)
	}
	return d.finish()
}

// Decode reads one benchmark stream into a new Set. The name stands for
// the stream in errors and in the ".file" configuration key.
func Decode(r io.Reader, name string) (*Set, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("results: read %s: %w", name, err)
	}
	var d decoder
	d.decode(data, name)
	return d.finish()
}

// A decoder accumulates a Set across files. One benchfmt.Reader serves
// every file, as in benchfmt.Files, so that unit metadata declared in
// one file applies to all and conflicting declarations are reported.
type decoder struct {
	reader benchfmt.Reader
	set    Set
	errs   []error
}

func (d *decoder) decode(data []byte, name string) {
	d.set.Failures = append(d.set.Failures, parseFailures(data, name)...)

	d.reader.Reset(bytes.NewReader(data), name, ".file", name)
	for d.reader.Scan() {
		switch rec := d.reader.Result().(type) {
		case *benchfmt.SyntaxError:
			d.errs = append(d.errs, rec)
		case *benchfmt.Result:
			if err := checkValues(rec); err != nil {
				d.errs = append(d.errs, err)
				continue
			}
			d.set.Results = append(d.set.Results, rec.Clone())
		}
	}
	if err := d.reader.Err(); err != nil {
		d.errs = append(d.errs, err)
	}
}

func (d *decoder) finish() (*Set, error) {
	if len(d.errs) > 0 {
		return nil, fmt.Errorf("results: %w", errors.Join(d.errs...))
	}
	d.set.Units = d.reader.Units()
	if d.set.Units == nil {
		d.set.Units = make(benchfmt.UnitMetadataMap)
	}
	return &d.set, nil
}

// checkValues rejects NaN and infinite measurements. No harness writes
// one on purpose, and either sends the Mann-Whitney U test of
// github.com/aclements/go-moremath into an endless loop.
func checkValues(r *benchfmt.Result) error {
	for _, v := range r.Values {
		if math.IsNaN(v.Value) || math.IsInf(v.Value, 0) {
			file, line := r.Pos()
			return fmt.Errorf("%s:%d: %s is %v, not a measurement", file, line, v.Unit, v.Value)
		}
	}
	return nil
}
