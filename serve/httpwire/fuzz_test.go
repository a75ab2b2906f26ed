package httpwire

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// FuzzRequestParser splits the input at random points and checks that the
// parser returns the same requests and refusals as from one read, and that
// whatever it returns is consistent (n within the buffer, targets that
// begin with a slash, bodies within their bound).
func FuzzRequestParser(f *testing.F) {
	for _, s := range []string{
		"GET /page/7 HTTP/1.1\r\nHost: a\r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET / HTTP/1.1\r\nHost: b\r\n\r\n",
		"\r\nGET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
		"\x16\x03\x01\x00",
	} {
		f.Add([]byte(s), uint64(1))
	}
	f.Fuzz(func(t *testing.T, input []byte, seed uint64) {
		// Small limits, so the fuzzer reaches them.
		lim := Limits{MaxRequestLine: 64, MaxHeaderBytes: 128, MaxHeaders: 4, MaxBody: 8}
		whole := checkedTranscript(t, &Parser{Limits: lim}, input)
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		split := feed(&Parser{Limits: lim}, input, func(int) int { return 1 + rng.IntN(8) })
		if strings.Join(split, "\n") != strings.Join(whole, "\n") {
			t.Fatalf("split reads got\n\t%s\none read got\n\t%s", strings.Join(split, "\n\t"), strings.Join(whole, "\n\t"))
		}
	})
}

func checkedTranscript(t *testing.T, p *Parser, buf []byte) []string {
	var out []string
	for {
		req, n, err := p.Parse(buf)
		var perr *Error
		switch {
		case errors.Is(err, ErrIncomplete):
			return append(out, "incomplete")
		case errors.As(err, &perr):
			if perr.Status < 400 || perr.Status > 505 {
				t.Fatalf("status %d", perr.Status)
			}
			return append(out, outcome(req, err))
		case err != nil:
			t.Fatalf("error of unexpected type: %v", err)
		}
		if n <= 0 || n > len(buf) {
			t.Fatalf("n = %d of %d bytes", n, len(buf))
		}
		if len(req.Target) == 0 || req.Target[0] != '/' || len(req.Body) > p.Limits.MaxBody {
			t.Fatalf("inconsistent request %+v", req)
		}
		out = append(out, outcome(req, nil))
		buf = buf[n:]
	}
}

// FuzzResponseParser does the same for the client's response parser.
func FuzzResponseParser(f *testing.F) {
	for _, s := range []string{
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
		"HTTP/1.1 204 No Content\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	} {
		f.Add([]byte(s), uint64(1))
	}
	f.Fuzz(func(t *testing.T, input []byte, seed uint64) {
		whole := responseTranscript(&ResponseParser{MaxHead: 128, MaxBody: 64}, input, func(int) int { return len(input) })
		rng := rand.New(rand.NewPCG(seed, ^seed))
		split := responseTranscript(&ResponseParser{MaxHead: 128, MaxBody: 64}, input, func(int) int { return 1 + rng.IntN(8) })
		if strings.Join(split, "\n") != strings.Join(whole, "\n") {
			t.Fatalf("split reads got\n\t%s\none read got\n\t%s", strings.Join(split, "\n\t"), strings.Join(whole, "\n\t"))
		}
	})
}

func responseTranscript(p *ResponseParser, input []byte, next func(int) int) []string {
	var out []string
	var buf []byte
	for i := 0; len(input) > 0; i++ {
		k := min(max(next(i), 1), len(input))
		buf = append(buf, input[:k]...)
		input = input[k:]
		for {
			r, n, err := p.Parse(buf)
			if errors.Is(err, ErrIncomplete) {
				break
			}
			if err != nil {
				if !errors.Is(err, ErrResponse) {
					return append(out, "unexpected error "+err.Error())
				}
				return append(out, "error")
			}
			out = append(out, fmt.Sprintf("%d close=%v body=%q", r.Status, r.Close, r.Body))
			buf = append(buf[:0], buf[n:]...)
		}
	}
	return append(out, "incomplete")
}
