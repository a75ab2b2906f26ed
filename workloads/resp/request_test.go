package resp

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func formatArgs(args [][]byte) string {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = string(a)
	}
	return strings.Join(s, "|")
}

func TestRequestParser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string // args joined by |
		n    int    // bytes consumed; -1 means len(in)
		err  error
	}{
		{"array", "*2\r\n$3\r\nGET\r\n$3\r\nk:1\r\n", "GET|k:1", -1, nil},
		{"binary arg", "*2\r\n$4\r\nECHO\r\n$4\r\na\r\nb\r\n", "ECHO|a\r\nb", -1, nil},
		{"empty arg", "*2\r\n$3\r\nGET\r\n$0\r\n\r\n", "GET|", -1, nil},
		{"followed by more", "*1\r\n$4\r\nPING\r\n*1\r\n", "PING", 14, nil},
		{"inline", "PING\r\n", "PING", -1, nil},
		{"inline LF only", "GET  k\tv \n", "GET|k|v", -1, nil},
		{"blank line", "\r\n", "", -1, nil},
		{"empty array", "*0\r\n", "", -1, nil},
		{"incomplete array", "*2\r\n$3\r\nGET\r\n", "", 0, ErrIncomplete},
		{"incomplete inline", "PIN", "", 0, ErrIncomplete},
		{"not bulk", "*1\r\n:1\r\n", "", 0, ErrProtocol},
		{"null arg", "*1\r\n$-1\r\n", "", 0, ErrProtocol},
		{"bad count", "*x\r\n", "", 0, ErrProtocol},
		{"bulk over limit", "*1\r\n$536870913\r\n", "", 0, ErrProtocol},
		{"too many args", "*1048577\r\n", "", 0, ErrProtocol},
		{"inline too long", strings.Repeat("x", DefaultMaxLine+1), "", 0, ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var p RequestParser
			args, n, err := p.Parse([]byte(tt.in))
			want := tt.n
			if want < 0 {
				want = len(tt.in)
			}
			if !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if n != want || formatArgs(args) != tt.want {
				t.Fatalf("Parse(%q) = %q, %d; want %q, %d", tt.in, formatArgs(args), n, tt.want, want)
			}
		})
	}
}

func TestRequestParserSplitAtEveryByte(t *testing.T) {
	t.Parallel()
	stream := string(AppendCommand(nil, "SET", "k", "a\r\nb")) + "PING\r\n" +
		string(AppendCommand(nil, "MGET", "a", "b", "c")) + "\r\n" + string(AppendCommand(nil, "GET", ""))
	want := "SET|k|a\r\nb;PING;MGET|a|b|c;;GET|"
	for cut := 0; cut <= len(stream); cut++ {
		got, err := parseRequestsStream([]byte(stream), cut)
		if err != nil {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if got != want {
			t.Fatalf("cut %d: got %q, want %q", cut, got, want)
		}
	}
}

// parseRequestsStream feeds data in chunks cut at cuts and returns the
// requests parsed, joined by ';', and any protocol error.
func parseRequestsStream(data []byte, cuts ...int) (string, error) {
	var p RequestParser
	var out []string
	var buf []byte
	prev := 0
	for _, c := range append(cuts, len(data)) {
		buf = append(buf, data[prev:c]...)
		prev = c
		for {
			args, n, err := p.Parse(buf)
			if errors.Is(err, ErrIncomplete) {
				break
			}
			if err != nil {
				return strings.Join(out, ";"), err
			}
			out = append(out, formatArgs(args))
			buf = buf[n:]
		}
	}
	return strings.Join(out, ";"), nil
}

func TestRequestParserDoesNotAllocate(t *testing.T) {
	var p RequestParser
	in := AppendCommand(nil, "GET", "item:12345")
	p.Parse(in) // warm the args slice
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := p.Parse(in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Parse: %v allocs, want 0", allocs)
	}
}

// mgetRequest returns an MGET of n keys and the offset where its k-th key's
// header starts (k < n).
func mgetRequest(n, k int) (req []byte, keyStart int) {
	args := []string{"MGET"}
	for i := 0; i < n; i++ {
		args = append(args, "item:"+strconv.Itoa(i))
	}
	req = AppendCommand(nil, args...)
	return req, len(AppendCommand(nil, args[:k+1]...)) - len(AppendArrayHeader(nil, k+1)) + len(AppendArrayHeader(nil, n+1))
}

// A request that arrives in many reads is parsed once, not again from its
// start on every read: after the first part was taken, the parser must not
// look at those bytes again. Overwriting them with garbage proves it; a
// parser that starts over finds no '$' there and fails.
func TestRequestParserDoesNotRereadParsedArguments(t *testing.T) {
	t.Parallel()
	const keys = 1000
	req, cut := mgetRequest(keys, 600) // cut: the 600th key's header, so 600 arguments are whole before it
	var p RequestParser
	if _, _, err := p.Parse(req[:cut+3]); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("first part: %v, want ErrIncomplete", err)
	}
	again := bytes.Clone(req)
	header := len(AppendArrayHeader(nil, keys+1))
	for i := header; i < cut; i++ {
		again[i] = 'X'
	}
	args, n, err := p.Parse(again)
	if err != nil || n != len(req) || len(args) != keys+1 {
		t.Fatalf("rest: %d args, n %d of %d, err %v: the parsed part was read again", len(args), n, len(req), err)
	}
	if string(args[keys]) != "item:"+strconv.Itoa(keys-1) {
		t.Fatalf("last argument %q", args[keys])
	}
}

// A megabyte MGET in 1 KiB reads gives exactly what one read gives.
func TestRequestParserLargeRequestInSmallReads(t *testing.T) {
	t.Parallel()
	req, _ := mgetRequest(60000, 0)
	var cuts []int
	for c := 1024; c < len(req); c += 1024 {
		cuts = append(cuts, c)
	}
	whole, err := parseRequestsStream(req)
	if err != nil {
		t.Fatal(err)
	}
	split, err := parseRequestsStream(req, cuts...)
	if err != nil || split != whole {
		t.Fatalf("split into %d reads: %v; requests differ: %t", len(cuts)+1, err, split != whole)
	}
	if !strings.HasPrefix(whole, "MGET|item:0|item:1|") || !strings.HasSuffix(whole, "|item:59999") {
		t.Fatalf("parsed %.60q...", whole)
	}
}

// After a protocol error, or Reset, the parser starts afresh.
func TestRequestParserStartsAfreshAfterErrorAndReset(t *testing.T) {
	t.Parallel()
	var p RequestParser
	if _, _, err := p.Parse([]byte("*2\r\n$3\r\nGET\r\n$1")); !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	if _, _, err := p.Parse([]byte("*2\r\n$3\r\nGET\r\n:1\r\n")); !errors.Is(err, ErrProtocol) {
		t.Fatalf("got %v, want a protocol error", err)
	}
	ping := AppendCommand(nil, "PING")
	if args, n, err := p.Parse(ping); err != nil || n != len(ping) || formatArgs(args) != "PING" {
		t.Fatalf("after an error: %q, %d, %v", formatArgs(args), n, err)
	}
	if _, _, err := p.Parse([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n")); !errors.Is(err, ErrIncomplete) {
		t.Fatal(err)
	}
	p.Reset()
	get := AppendCommand(nil, "GET", "abcdefghijklmnopqrstuvwxyz")
	if args, n, err := p.Parse(get); err != nil || n != len(get) || formatArgs(args) != "GET|abcdefghijklmnopqrstuvwxyz" {
		t.Fatalf("after Reset: %q, %d, %v", formatArgs(args), n, err)
	}
}
