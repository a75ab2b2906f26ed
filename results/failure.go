package results

import (
	"bytes"
	"strings"
)

// failPrefix starts the line that the testing package, and the harness
// after it, print for a failed benchmark.
const failPrefix = "--- FAIL: "

// A failureParser finds the "--- FAIL: <name>" records of a benchmark
// file, line by line. The indented lines that follow a FAIL line are its
// reason; benchfmt skips all of these lines, so they are read here.
type failureParser struct {
	file    string
	list    []Failure
	current *Failure
	reason  []string
}

// line reads line number n, without its newline.
func (p *failureParser) line(n int, text []byte) {
	if p.current != nil && len(text) > 0 && (text[0] == ' ' || text[0] == '\t') {
		if r := bytes.TrimSpace(text); len(r) > 0 {
			p.reason = append(p.reason, string(r))
		}
		return
	}
	p.flush()
	rest, ok := bytes.CutPrefix(text, []byte(failPrefix))
	if !ok {
		return
	}
	// The name is the first field: go test -v appends " (0.01s)".
	fields := strings.Fields(string(rest))
	if len(fields) == 0 {
		return
	}
	// Tests fail too in go test output; only benchmarks are cells.
	if name, ok := strings.CutPrefix(fields[0], "Benchmark"); ok && name != "" {
		p.current = &Failure{Name: name, File: p.file, Line: n}
	}
}

// flush files the record being read, if any.
func (p *failureParser) flush() {
	if p.current != nil {
		p.current.Reason = strings.Join(p.reason, "\n")
		p.list = append(p.list, *p.current)
		p.current, p.reason = nil, nil
	}
}
