package httpwire

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAppendResponseHead(t *testing.T) {
	t.Parallel()
	date := []byte("Sun, 06 Nov 1994 08:49:37 GMT")
	tests := []struct {
		name string
		h    ResponseHead
		want string
	}{
		{"keep-alive 1.1", ResponseHead{Status: 200, ContentType: "text/html", ContentLength: 12},
			"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 12\r\n\r\n"},
		{"close", ResponseHead{Status: 404, ContentLength: 0, Close: true, KeepAlive: true},
			"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
		{"keep-alive 1.0", ResponseHead{Status: 200, ContentLength: 1, KeepAlive: true, Date: date},
			"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n"},
		{"unknown status", ResponseHead{Status: 299},
			"HTTP/1.1 299 Status\r\nContent-Length: 0\r\n\r\n"},
	}
	for _, tt := range tests {
		if got := string(AppendResponseHead(nil, tt.h)); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestRequestHead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		req         Request
		close, keep bool
	}{
		{Request{Minor: 1, KeepAlive: true}, false, false},
		{Request{Minor: 1, KeepAlive: false}, true, false},
		{Request{Minor: 0, KeepAlive: true}, false, true},
		{Request{Minor: 0, KeepAlive: false}, true, false},
	}
	for _, tt := range tests {
		h := tt.req.Head(200, "", 0)
		if h.Close != tt.close || h.KeepAlive != tt.keep {
			t.Errorf("%+v: close %v keep-alive %v, want %v %v", tt.req, h.Close, h.KeepAlive, tt.close, tt.keep)
		}
	}
}

func TestAppendError(t *testing.T) {
	t.Parallel()
	got := string(AppendError(nil, errMethod, nil))
	want := "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 19\r\nAllow: GET\r\nConnection: close\r\n\r\nonly GET is served\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// What we write, our client reads.
	r, n, err := new(ResponseParser).Parse([]byte(got))
	if err != nil || n != len(got) || r.Status != 405 || !r.Close || string(r.Body) != "only GET is served\n" {
		t.Errorf("parsed back: %+v, %d, %v", r, n, err)
	}
}

func TestDateCache(t *testing.T) {
	t.Parallel()
	var c DateCache
	t0 := time.Date(1994, 11, 6, 8, 49, 37, 0, time.FixedZone("x", 3600))
	if got := string(c.Get(t0)); got != "Sun, 06 Nov 1994 07:49:37 GMT" {
		t.Errorf("got %q", got)
	}
	if got := string(c.Get(t0.Add(time.Second))); got != "Sun, 06 Nov 1994 07:49:38 GMT" {
		t.Errorf("next second: got %q", got)
	}
}

func TestResponseParserTable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, input string
		want        []string
	}{
		{"two", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
			[]string{`200 close=false body="abc"`, `502 close=true body=""`, "incomplete"}},
		{"1.0 closes", "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", []string{`200 close=true body="x"`, "incomplete"}},
		{"1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx", []string{`200 close=false body="x"`, "incomplete"}},
		{"no reason phrase", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", []string{`200 close=false body=""`, "incomplete"}},
		{"204", "HTTP/1.1 204 No Content\r\n\r\n", []string{`204 close=false body=""`, "incomplete"}},
		{"partial body", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab", []string{"incomplete"}},
		{"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", []string{"error"}},
		{"no length", "HTTP/1.1 200 OK\r\n\r\n", []string{"error"}},
		{"100", "HTTP/1.1 100 Continue\r\n\r\n", []string{"error"}},
		{"garbage", "SSH-2.0-OpenSSH\r\n", []string{"error"}},
		{"huge body", "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", []string{"error"}},
		{"endless head", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", DefaultMaxResponseHead), []string{"error"}},
	}
	for _, tt := range tests {
		whole := responseTranscript(&ResponseParser{}, []byte(tt.input), func(int) int { return len(tt.input) })
		if strings.Join(whole, "|") != strings.Join(tt.want, "|") {
			t.Errorf("%s: got %q, want %q", tt.name, whole, tt.want)
		}
		if split := responseTranscript(&ResponseParser{}, []byte(tt.input), everyByte); strings.Join(split, "|") != strings.Join(whole, "|") {
			t.Errorf("%s: byte by byte got %q, in one read %q", tt.name, split, whole)
		}
	}
}

func TestResponseParserErrorsWrapErrResponse(t *testing.T) {
	t.Parallel()
	_, _, err := new(ResponseParser).Parse([]byte("HTTP/1.1 200 OK\r\n\r\n"))
	if !errors.Is(err, ErrResponse) || !strings.Contains(err.Error(), "Content-Length") {
		t.Errorf("err = %v", err)
	}
}

func TestAppendGet(t *testing.T) {
	t.Parallel()
	got := AppendGet(nil, []byte("/page/1"), "127.0.0.1:80")
	req, n, err := new(Parser).Parse(got)
	if err != nil || n != len(got) || string(req.Target) != "/page/1" || !req.KeepAlive {
		t.Errorf("%q parsed as %+v, %d, %v", got, req, n, err)
	}
}

func TestResponseParseDoesNotAllocate(t *testing.T) {
	in := []byte("HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello")
	var p ResponseParser
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := p.Parse(in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations a response", allocs)
	}
}
