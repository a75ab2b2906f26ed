package external

import (
	"strings"
	"sync"
)

// stderrTail keeps the last bytes a child wrote to stderr: enough to show
// a Python traceback in an error, bounded so a chatty child cannot grow the
// harness's memory.
type stderrTail struct {
	mu  sync.Mutex
	max int
	buf []byte
	cut bool // bytes were dropped from the front
}

func (t *stderrTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.cut = true
	}
	return len(p), nil
}

// String returns the tail, trimmed, or "" when the child wrote nothing.
func (t *stderrTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.TrimSpace(string(t.buf))
	if t.cut && s != "" {
		s = "..." + s
	}
	return s
}
