package serve

import (
	"bytes"
	"errors"
	"fmt"
)

// ValueFunc appends the value the backend holds for key (size bytes) to
// dst: workloads.AppendSecretValue with the backend's secret, which the
// harness holds and never gives a server (serve.LoadJob.Reference makes
// this function from it); workloads.AppendValue for a backend with no
// secret. A server that made its pages from values of its own, without
// asking the backend, cannot match the reference.
type ValueFunc func(dst []byte, key string, size int) []byte

// Reference holds the expected body of every page, computed without a
// backend from the values the backend serves. It is the load generator's
// target: it names the path of each request and verifies each response.
// It is read-only once built and safe for concurrent use.
type Reference struct {
	pages int
	lines []byte   // every page's first line, back to back
	ends  []uint32 // lines of page id: lines[ends[id-1]:ends[id]]
}

// NewReference computes the pages [0, pages) for values of valueSize bytes
// from value.
func NewReference(pages, valueSize int, value ValueFunc) (*Reference, error) {
	switch {
	case pages < 1:
		return nil, fmt.Errorf("serve: reference of %d pages", pages)
	case valueSize < 1:
		return nil, fmt.Errorf("serve: reference with values of %d bytes", valueSize)
	case value == nil:
		return nil, errors.New("serve: reference without a value function")
	}
	r := &Reference{pages: pages, ends: make([]uint32, pages)}
	var v []byte
	for id := range pages {
		v = value(v[:0], SessionKey(id), valueSize)
		if len(v) != valueSize {
			return nil, fmt.Errorf("serve: value function gave %d bytes for %q, want %d", len(v), SessionKey(id), valueSize)
		}
		sh := ReplyHash(v)
		v = value(v[:0], UserKey(sh), valueSize)
		if len(v) != valueSize {
			return nil, fmt.Errorf("serve: value function gave %d bytes for %q, want %d", len(v), UserKey(sh), valueSize)
		}
		r.lines = appendPageLine(r.lines, id, Sums(id, sh, ReplyHash(v)))
		r.ends[id] = uint32(len(r.lines))
	}
	return r, nil
}

// Pages returns the number of pages.
func (r *Reference) Pages() int { return r.pages }

func (r *Reference) line(id int) []byte {
	start := uint32(0)
	if id > 0 {
		start = r.ends[id-1]
	}
	return r.lines[start:r.ends[id]]
}

// Page appends page id's expected body to dst.
func (r *Reference) Page(dst []byte, id int) []byte {
	return append(append(dst, r.line(id)...), pageTable...)
}

// ErrWrongPage is wrapped by Verify's errors.
var ErrWrongPage = errors.New("serve: page differs from the reference")

// Verify checks that body is page id, byte for byte. It does not allocate
// unless the page is wrong.
func (r *Reference) Verify(id int, body []byte) error {
	if id < 0 || id >= r.pages {
		return fmt.Errorf("%w: no page %d", ErrWrongPage, id)
	}
	line := r.line(id)
	if len(body) == len(line)+len(pageTable) && bytes.Equal(body[:len(line)], line) && bytes.Equal(body[len(line):], pageTable) {
		return nil
	}
	got := body
	if i := bytes.IndexByte(got, '\n'); i >= 0 {
		got = got[:i+1]
	}
	if len(got) > 200 {
		got = got[:200]
	}
	if bytes.Equal(got, line) {
		return fmt.Errorf("%w: page %d: first line right, rendered table differs (%d bytes, want %d)",
			ErrWrongPage, id, len(body)-len(line), len(pageTable))
	}
	return fmt.Errorf("%w: page %d: first line %q, want %q", ErrWrongPage, id, got, line)
}

// AppendPath appends the path of request seq to dst and returns the page
// id as the tag to verify its response with: requests visit the pages in
// turn, seq mod Pages. With Verify it is the load generator's Target.
func (r *Reference) AppendPath(dst []byte, seq uint64) ([]byte, uint64) {
	id := seq % uint64(r.pages)
	return AppendPath(dst, int(id)), id
}

// VerifyResponse checks the body of the response to the request tagged
// tag by AppendPath.
func (r *Reference) VerifyResponse(tag uint64, body []byte) error {
	return r.Verify(int(tag), body)
}
