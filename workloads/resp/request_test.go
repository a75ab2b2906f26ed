package resp

import (
	"errors"
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
