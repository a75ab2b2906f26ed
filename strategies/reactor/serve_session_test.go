package reactor

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/concbench/concbench/serve"
	"github.com/concbench/concbench/serve/httpwire"
)

// fakeLookups is the loop's side of a session without sockets: lookups
// wait in a list until the test finishes them, in any order; even pages
// are found (200) and odd ones fail (502), so the expected answers do not
// depend on that order. It counts exchanges out and back.
type fakeLookups struct {
	inFlight []*exchange
	out      map[*exchange]bool // exchanges handed out and not recycled
	recycled int
	t        *testing.T
}

func (f *fakeLookups) newExchange() *exchange {
	x := &exchange{}
	f.out[x] = true
	return x
}

func (f *fakeLookups) lookup(x *exchange) { f.inFlight = append(f.inFlight, x) }

func (f *fakeLookups) recycle(x *exchange) {
	if !f.out[x] {
		f.t.Fatalf("exchange %p recycled twice, or never handed out", x)
	}
	delete(f.out, x)
	f.recycled++
}

// finishOne finishes the lookups of the exchange at position i, as the
// loop does (an exchange whose client has gone is only recycled).
func (f *fakeLookups) finishOne(i int) {
	x := f.inFlight[i]
	f.inFlight = slices.Delete(f.inFlight, i, i+1)
	if x.sess == nil {
		f.recycle(x)
		return
	}
	x.finish(x.id%2 == 0, fakeSums(x.id))
}

func fakeSums(id int) serve.PageSums { return serve.Sums(id, uint64(id), uint64(id)*3) }

// FuzzSession feeds a session its input in random pieces, finishing
// lookups in random order in between, and checks what it writes against
// the requests a one-shot parse of the input finds: the same answers, in
// request order, framed and closed as they must be; its buffers within
// their bounds; every exchange recycled exactly once, whether the
// connection ends normally or is abandoned mid-way.
func FuzzSession(f *testing.F) {
	for _, s := range []string{
		"GET /page/4 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /page/1 HTTP/1.1\r\nHost: a\r\n\r\nGET /page/2 HTTP/1.1\r\nHost: a\r\n\r\nGET /x HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /page/6 HTTP/1.0\r\n\r\nGET /page/2 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /page/8 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /page/2 HTTP/1.1\r\n",
		"GET /page/3?q HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /" + strings.Repeat("a", 100) + " HTTP/1.1\r\n\r\n",
		"GET /page/0 HTTP/1.1\r\nHost: a\r\n" + strings.Repeat("X: y\r\n", 6) + "\r\n",
		strings.Repeat("GET /page/2 HTTP/1.1\r\nHost: a\r\n\r\n", 140),
		"\x16\x03\x01\x02\x00garbage\r\n\r\n",
	} {
		f.Add([]byte(s), uint64(1), false)
	}
	f.Fuzz(func(t *testing.T, input []byte, seed uint64, abandon bool) {
		env, err := serve.Env{Backends: []string{"x"}, Pages: 10, ValueSize: 1,
			Limits: serve.Limits{Wire: httpwire.Limits{MaxRequestLine: 64, MaxHeaderBytes: 128, MaxHeaders: 4}}}.WithDefaults()
		if err != nil {
			t.Fatal(err)
		}
		want := expectedAnswers(env, input)
		rng := rand.New(rand.NewPCG(seed, seed^0x5bd1e995))
		fake := &fakeLookups{out: map[*exchange]bool{}, t: t}
		var s session
		s.reset(&env, fake, 0)
		var written []byte
		drain := func() {
			s.collect([]byte("date"))
			out := s.unsent()
			n := len(out)
			if n > 0 && rng.IntN(3) == 0 {
				n = rng.IntN(n + 1) // a partial write
			}
			written = append(written, out[:n]...)
			s.wrote(n)
		}
		finishSome := func() {
			for k := rng.IntN(len(fake.inFlight) + 1); k > 0; k-- {
				fake.finishOne(rng.IntN(len(fake.inFlight)))
			}
		}
		for now, rest := int64(1), input; len(rest) > 0 && !s.closing; now++ {
			buf := s.space()
			if buf == nil { // paused: answers must go out first
				if len(fake.inFlight) == 0 && s.pending.len() < maxPipelined {
					t.Fatalf("no room for input, no lookup in flight, %d pending", s.pending.len())
				}
				if len(fake.inFlight) > 0 {
					fake.finishOne(rng.IntN(len(fake.inFlight)))
				}
				drain()
				continue
			}
			n := copy(buf, rest[:min(len(rest), 1+rng.IntN(48))])
			rest = rest[n:]
			s.commit(n)
			s.parse(now)
			if len(s.in) > s.maxIn || s.pending.len() > maxPipelined {
				t.Fatalf("buffer %d (max %d), %d pending (max %d)", len(s.in), s.maxIn, s.pending.len(), maxPipelined)
			}
			finishSome()
			drain()
		}
		if abandon {
			s.abandon()
			for len(fake.inFlight) > 0 {
				fake.finishOne(rng.IntN(len(fake.inFlight)))
			}
			if len(fake.out) != 0 {
				t.Fatalf("%d exchanges never recycled after abandon", len(fake.out))
			}
			return
		}
		s.readEOF()
		s.parse(0)
		for len(fake.inFlight) > 0 {
			fake.finishOne(rng.IntN(len(fake.inFlight)))
			drain()
		}
		for len(s.unsent()) > 0 || s.pending.len() > 0 {
			drain()
		}
		if !s.finished() {
			t.Fatal("not finished after every answer was written")
		}
		if len(fake.out) != 0 {
			t.Fatalf("%d exchanges never recycled", len(fake.out))
		}
		if got := readAnswers(t, written); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("answers\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
		}
	})
}

// expectedAnswers parses input in one piece and returns the answer each
// request must get, in order, up to the first that ends the connection.
func expectedAnswers(env serve.Env, input []byte) []string {
	p := httpwire.Parser{Limits: env.Limits.Wire}
	var want []string
	for len(input) > 0 {
		req, n, err := p.Parse(input)
		var perr *httpwire.Error
		switch {
		case errors.As(err, &perr):
			return append(want, fmt.Sprintf("%d close", perr.Status))
		case err != nil: // incomplete: dropped at EOF
			return want
		}
		id, ok := serve.ParseTarget(req.Target, env.Pages)
		status := 404
		switch {
		case ok && id%2 == 0:
			status = 200
		case ok:
			status = 502
		}
		a := fmt.Sprint(status)
		if status == 200 {
			a += fmt.Sprintf(" page %d", id)
		}
		if !req.KeepAlive {
			return append(want, a+" close")
		}
		want = append(want, a)
		input = input[n:]
	}
	return want
}

// readAnswers parses what the session wrote into the same form.
func readAnswers(t *testing.T, written []byte) []string {
	var p httpwire.ResponseParser
	var got []string
	for len(written) > 0 {
		r, n, err := p.Parse(written)
		if err != nil {
			t.Fatalf("unreadable answer after %v: %v (%q)", got, err, written[:min(len(written), 200)])
		}
		a := fmt.Sprint(r.Status)
		if r.Status == 200 {
			id := -1
			for k := range 10 {
				if bytes.Equal(r.Body, serve.AppendPageSums(nil, k, fakeSums(k))) {
					id = k
				}
			}
			a += fmt.Sprintf(" page %d", id)
		}
		if r.Close {
			a += " close"
		}
		got = append(got, a)
		written = written[n:]
	}
	return got
}
