package results

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"
)

// failPrefix starts the line that the testing package, and the harness
// after it, print for a failed benchmark.
const failPrefix = "--- FAIL: "

// elapsed matches the " (0.01s)" that go test -v appends to FAIL lines.
var elapsed = regexp.MustCompile(` \([0-9.]+s\)$`)

// parseFailures finds the "--- FAIL: <name>" records in data. The
// indented lines that follow a FAIL line are its reason; benchfmt skips
// all of these lines, so they are read here.
func parseFailures(data []byte, file string) []Failure {
	var failures []Failure
	var current *Failure
	var reason []string
	flush := func() {
		if current != nil {
			current.Reason = strings.Join(reason, "\n")
			failures = append(failures, *current)
			current, reason = nil, nil
		}
	}

	s := bufio.NewScanner(bytes.NewReader(data))
	// benchfmt gives up on longer lines, and reports it; match its limit
	// rather than fail here first.
	s.Buffer(nil, bufio.MaxScanTokenSize)
	line := 0
	for s.Scan() {
		line++
		text := s.Text()
		if current != nil && (strings.HasPrefix(text, " ") || strings.HasPrefix(text, "\t")) {
			if r := strings.TrimSpace(text); r != "" {
				reason = append(reason, r)
			}
			continue
		}
		flush()
		if name, ok := strings.CutPrefix(text, failPrefix); ok {
			name = elapsed.ReplaceAllString(strings.TrimSpace(name), "")
			// Tests fail too in go test output; only benchmarks are cells.
			if name, ok := strings.CutPrefix(name, "Benchmark"); ok && name != "" {
				current = &Failure{Name: name, File: file, Line: line}
			}
		}
	}
	flush()
	return failures
}
