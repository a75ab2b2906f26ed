package httpwire

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// transcript parses every request at the front of buf and describes each
// outcome, ending with "incomplete" or the refusal that stops the stream.
func transcript(p *Parser, buf []byte) []string {
	var out []string
	for {
		req, n, err := p.Parse(buf)
		if err != nil {
			return append(out, outcome(req, err))
		}
		out = append(out, outcome(req, nil))
		buf = buf[n:]
	}
}

func outcome(req Request, err error) string {
	var perr *Error
	switch {
	case errors.Is(err, ErrIncomplete):
		return "incomplete"
	case errors.As(err, &perr):
		return fmt.Sprintf("%d %s", perr.Status, perr.Reason)
	case err != nil:
		return "unexpected error " + err.Error()
	}
	s := fmt.Sprintf("GET %s 1.%d keep=%v", req.Target, req.Minor, req.KeepAlive)
	if req.Body != nil {
		s += fmt.Sprintf(" body=%q", req.Body)
	}
	return s
}

func TestParserTable(t *testing.T) {
	t.Parallel()
	long := "/" + strings.Repeat("a", DefaultMaxRequestLine)
	manyHeaders := strings.Repeat("X-A: b\r\n", DefaultMaxHeaders+1)
	bigHeader := "X-Big: " + strings.Repeat("b", DefaultMaxHeaderBytes) + "\r\n"
	tests := []struct {
		name  string
		lim   Limits
		input string
		want  []string
	}{
		{"simple", Limits{}, "GET /page/7 HTTP/1.1\r\nHost: a\r\n\r\n",
			[]string{"GET /page/7 1.1 keep=true", "incomplete"}},
		{"partial", Limits{}, "GET /page/7 HTTP/1.1\r\nHost: a\r\n",
			[]string{"incomplete"}},
		{"connection close", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, CLOSE\r\n\r\n",
			[]string{"GET / 1.1 keep=false", "incomplete"}},
		{"http/1.0 closes by default", Limits{}, "GET /x HTTP/1.0\r\n\r\n",
			[]string{"GET /x 1.0 keep=false", "incomplete"}},
		{"http/1.0 keep-alive", Limits{}, "GET /x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
			[]string{"GET /x 1.0 keep=true", "incomplete"}},
		{"http/1.2 is 1.1", Limits{}, "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
			[]string{"GET / 1.1 keep=true", "incomplete"}},
		{"query kept in target", Limits{}, "GET /page/1?a=b HTTP/1.1\r\nHost: a\r\n\r\n",
			[]string{"GET /page/1?a=b 1.1 keep=true", "incomplete"}},
		{"pipelined", Limits{}, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /c",
			[]string{"GET /a 1.1 keep=true", "GET /b 1.1 keep=false", "incomplete"}},
		{"leading empty line", Limits{}, "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
			[]string{"GET / 1.1 keep=true", "incomplete"}},
		{"header value whitespace", Limits{}, "GET / HTTP/1.1\r\nHost:\t a \t\r\nContent-Length: 0\r\n\r\n",
			[]string{"GET / 1.1 keep=true", "incomplete"}},
		{"same length twice", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\ncontent-length: 0\r\n\r\n",
			[]string{"GET / 1.1 keep=true", "incomplete"}},
		{"bounded body", Limits{MaxBody: 8}, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabcGET /n HTTP/1.1\r\nHost: a\r\n\r\n",
			[]string{`GET / 1.1 keep=true body="abc"`, "GET /n 1.1 keep=true", "incomplete"}},
		{"body awaited", Limits{MaxBody: 8}, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nab",
			[]string{"incomplete"}},

		{"post", Limits{}, "POST / HTTP/1.1\r\nHost: a\r\n\r\n", []string{"405 only GET is served"}},
		{"head", Limits{}, "HEAD / HTTP/1.1\r\nHost: a\r\n\r\n", []string{"405 only GET is served"}},
		{"bad method", Limits{}, "G(T / HTTP/1.1\r\nHost: a\r\n\r\n", []string{"400 malformed method"}},
		{"garbage", Limits{}, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n", []string{"400 malformed request line"}},
		{"one word", Limits{}, "hello\r\n", []string{"400 malformed request line"}},
		{"double space", Limits{}, "GET  / HTTP/1.1\r\n", []string{"400 malformed request line"}},
		{"absolute form", Limits{}, "GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", []string{"400 malformed request target"}},
		{"target with DEL", Limits{}, "GET /\x7f HTTP/1.1\r\n", []string{"400 malformed request target"}},
		{"target with 8-bit byte", Limits{}, "GET /\xc3\xa9 HTTP/1.1\r\n", []string{"400 malformed request target"}},
		{"bad version", Limits{}, "GET / HTTP/1.x\r\n", []string{"400 malformed HTTP version"}},
		{"lowercase version", Limits{}, "GET / http/1.1\r\n", []string{"400 malformed HTTP version"}},
		{"http/2", Limits{}, "GET / HTTP/2.0\r\nHost: a\r\n\r\n", []string{"505 HTTP version not supported"}},
		{"bare LF request line", Limits{}, "GET / HTTP/1.1\nHost: a\r\n\r\n", []string{"400 line not ended by CRLF"}},
		{"bare LF header", Limits{}, "GET / HTTP/1.1\r\nHost: a\n\r\n", []string{"400 line not ended by CRLF"}},
		{"bare LF end", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\n\n", []string{"400 line not ended by CRLF"}},
		{"obs-fold", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", []string{"400 obsolete header line folding"}},
		{"space before colon", Limits{}, "GET / HTTP/1.1\r\nHost : a\r\n\r\n", []string{"400 malformed header field"}},
		{"no colon", Limits{}, "GET / HTTP/1.1\r\nHost a\r\n\r\n", []string{"400 malformed header field"}},
		{"empty name", Limits{}, "GET / HTTP/1.1\r\n: a\r\n\r\n", []string{"400 malformed header field"}},
		{"control char in value", Limits{}, "GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n", []string{"400 malformed header field"}},
		{"no host", Limits{}, "GET / HTTP/1.1\r\n\r\n", []string{"400 HTTP/1.1 request without Host"}},
		{"two hosts", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", []string{"400 more than one Host header"}},
		{"bad length", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", []string{"400 malformed Content-Length"}},
		{"length list", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 1\r\n\r\n", []string{"400 malformed Content-Length"}},
		{"huge length", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999\r\n\r\n", []string{"400 malformed Content-Length"}},
		{"two lengths", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n", []string{"400 conflicting Content-Length headers"}},
		{"body refused", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\nx", []string{"413 request body not accepted"}},
		{"body over bound", Limits{MaxBody: 2}, "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc", []string{"413 request body not accepted"}},
		{"chunked", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []string{"501 Transfer-Encoding not supported"}},
		{"request line too long", Limits{}, "GET " + long + " HTTP/1.1\r\nHost: a\r\n\r\n", []string{"414 request line too long"}},
		{"request line too long, unfinished", Limits{}, "GET " + long, []string{"414 request line too long"}},
		{"small line limit", Limits{MaxRequestLine: 16}, "GET /0123456789 HTTP/1.1\r\n", []string{"414 request line too long"}},
		{"too many empty lines", Limits{}, "\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n", []string{"400 malformed request line"}},
		{"too many headers", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\n" + manyHeaders + "\r\n", []string{"431 too many header fields"}},
		{"header section too large", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\n" + bigHeader + "\r\n", []string{"431 header section too large"}},
		{"header section too large, unfinished", Limits{}, "GET / HTTP/1.1\r\nHost: a\r\n" + bigHeader[:len(bigHeader)-2], []string{"431 header section too large"}},
		{"refusal after a good request", Limits{}, "GET /a HTTP/1.1\r\nHost: a\r\n\r\nPUT /b HTTP/1.1\r\n",
			[]string{"GET /a 1.1 keep=true", "405 only GET is served"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := Parser{Limits: tt.lim}
			got := transcript(&p, []byte(tt.input))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(tt.want, "\n\t"))
			}
			// Byte by byte: the same outcomes.
			if split := feed(&Parser{Limits: tt.lim}, []byte(tt.input), everyByte); strings.Join(split, "\n") != strings.Join(got, "\n") {
				t.Errorf("byte by byte got\n\t%s\nin one read\n\t%s", strings.Join(split, "\n\t"), strings.Join(got, "\n\t"))
			}
		})
	}
}

func everyByte(int) int { return 1 }

// feed hands input to p in chunks whose sizes come from next, the way a
// read loop does: it appends each chunk to its buffer, parses every whole
// request, and drops their bytes.
func feed(p *Parser, input []byte, next func(i int) int) []string {
	var out []string
	var buf []byte
	for i := 0; len(input) > 0; i++ {
		k := min(max(next(i), 1), len(input))
		buf = append(buf, input[:k]...)
		input = input[k:]
		for {
			req, n, err := p.Parse(buf)
			if errors.Is(err, ErrIncomplete) {
				break
			}
			out = append(out, outcome(req, err))
			if err != nil {
				return out
			}
			buf = append(buf[:0], buf[n:]...) // compaction moves the bytes: allowed
		}
	}
	return append(out, "incomplete")
}

func TestParserTargetAndPath(t *testing.T) {
	t.Parallel()
	var p Parser
	req, n, err := p.Parse([]byte("GET /page/3?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"))
	if err != nil || n != 37 {
		t.Fatalf("n %d, err %v", n, err)
	}
	if string(req.Path()) != "/page/3" || string(req.Target) != "/page/3?x=1" {
		t.Errorf("target %q path %q", req.Target, req.Path())
	}
}

func TestParserReset(t *testing.T) {
	t.Parallel()
	var p Parser
	if _, _, err := p.Parse([]byte("GET /a HTTP/1.1\r\nHo")); !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	p.Reset()
	req, _, err := p.Parse([]byte("GET /b HTTP/1.1\r\nHost: a\r\n\r\n"))
	if err != nil || string(req.Target) != "/b" {
		t.Fatalf("after Reset: %q, %v", req.Target, err)
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	in := []byte("GET /page/12345 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: x\r\nAccept: */*\r\n\r\n")
	var p Parser
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := p.Parse(in); err != nil {
			t.Fatal(err)
		}
		if _, _, err := p.Parse([]byte("GET / HTTP/1.1\r\n\r\n")); err == nil {
			t.Fatal("missing Host accepted")
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations a request", allocs)
	}
}

func BenchmarkParse(b *testing.B) {
	in := []byte("GET /page/12345 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n")
	b.Run("whole", func(b *testing.B) {
		var p Parser
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			if _, _, err := p.Parse(in); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("byte-by-byte", func(b *testing.B) {
		var p Parser
		b.SetBytes(int64(len(in)))
		for b.Loop() {
			for i := 1; i <= len(in); i++ {
				if _, _, err := p.Parse(in[:i]); err != nil && err != ErrIncomplete {
					b.Fatal(err)
				}
			}
		}
	})
}
