package resp

import (
	"errors"
	"strings"
	"testing"
)

// recordedStream is a reply stream as a server sends it to a pipelined
// client: every kind, null values, nesting, and a HELLO-style map.
const recordedStream = "+OK\r\n" +
	"-ERR unknown command 'x'\r\n" +
	":42\r\n" +
	":-7\r\n" +
	"$5\r\nhello\r\n" +
	"$0\r\n\r\n" +
	"$-1\r\n" +
	"$4\r\na\r\nb\r\n" +
	"*0\r\n" +
	"*-1\r\n" +
	"*3\r\n$1\r\na\r\n$-1\r\n:3\r\n" +
	"*2\r\n*2\r\n+x\r\n:1\r\n*1\r\n*0\r\n" +
	"*4\r\n$6\r\nserver\r\n$5\r\nredis\r\n$5\r\nproto\r\n:2\r\n"

var recordedReplies = []string{
	`+"OK"`,
	`-"ERR unknown command 'x'"`,
	`:42`,
	`:-7`,
	`"hello"`,
	`""`,
	`nil`,
	`"a\r\nb"`,
	`[]`,
	`nil`,
	`["a" nil :3]`,
	`[[+"x" :1] [[]]]`,
	`["server" "redis" "proto" :2]`,
}

// parseAll parses replies from the front of data until an error, returning
// their String forms and the terminating error (ErrIncomplete at the end).
func parseAll(p *ReplyParser, data []byte) ([]string, int, error) {
	var out []string
	off := 0
	for {
		r, n, err := p.Parse(data[off:])
		if err != nil {
			return out, off, err
		}
		if n <= 0 {
			panic("Parse consumed nothing")
		}
		out = append(out, r.String())
		off += n
	}
}

// parseStream feeds data to the parser in the given chunk boundaries, as an
// event loop does, and returns what it parsed.
func parseStream(p *ReplyParser, data []byte, cuts ...int) ([]string, error) {
	var out []string
	var buf []byte
	prev := 0
	for _, c := range append(cuts, len(data)) {
		buf = append(buf, data[prev:c]...)
		prev = c
		got, n, err := parseAll(p, buf)
		out = append(out, got...)
		buf = buf[n:]
		if !errors.Is(err, ErrIncomplete) {
			return out, err
		}
	}
	return out, ErrIncomplete
}

func TestReplyParserRecordedStream(t *testing.T) {
	t.Parallel()
	var p ReplyParser
	got, n, err := parseAll(&p, []byte(recordedStream))
	if !errors.Is(err, ErrIncomplete) || n != len(recordedStream) {
		t.Fatalf("parse stopped at %d of %d: %v", n, len(recordedStream), err)
	}
	if strings.Join(got, "\n") != strings.Join(recordedReplies, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(recordedReplies, "\n"))
	}
}

func TestReplyParserSplitAtEveryByte(t *testing.T) {
	t.Parallel()
	data := []byte(recordedStream)
	for cut := 0; cut <= len(data); cut++ {
		var p ReplyParser
		got, err := parseStream(&p, data, cut)
		if !errors.Is(err, ErrIncomplete) {
			t.Fatalf("cut %d: %v", cut, err)
		}
		if strings.Join(got, "\n") != strings.Join(recordedReplies, "\n") {
			t.Fatalf("cut %d: got %q", cut, got)
		}
	}
	// One byte at a time: every boundary at once.
	cuts := make([]int, len(data))
	for i := range cuts {
		cuts[i] = i
	}
	var p ReplyParser
	if got, _ := parseStream(&p, data, cuts...); len(got) != len(recordedReplies) {
		t.Fatalf("byte at a time: %d replies, want %d", len(got), len(recordedReplies))
	}
}

func TestReplyParserErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		p    ReplyParser
		want error
	}{
		{"empty", "", ReplyParser{}, ErrIncomplete},
		{"partial header", "$12", ReplyParser{}, ErrIncomplete},
		{"partial payload", "$5\r\nhel", ReplyParser{}, ErrIncomplete},
		{"missing final CRLF", "$5\r\nhello", ReplyParser{}, ErrIncomplete},
		{"array waiting", "*3\r\n:1\r\n", ReplyParser{}, ErrIncomplete},
		{"huge array announced", "*1000000\r\n", ReplyParser{}, ErrIncomplete},
		{"unknown type", "?x\r\n", ReplyParser{}, ErrProtocol},
		{"bare LF", "+OK\n", ReplyParser{}, ErrProtocol},
		{"bad int", ":12a\r\n", ReplyParser{}, ErrProtocol},
		{"empty int", ":\r\n", ReplyParser{}, ErrProtocol},
		{"int overflow", ":99999999999999999999\r\n", ReplyParser{}, ErrProtocol},
		{"bulk over default limit", "$536870913\r\n", ReplyParser{}, ErrProtocol},
		{"bulk over set limit", "$11\r\nhello world\r\n", ReplyParser{MaxBulk: 10}, ErrProtocol},
		{"negative bulk", "$-2\r\n", ReplyParser{}, ErrProtocol},
		{"bulk without CRLF", "$2\r\nabcd\r\n", ReplyParser{}, ErrProtocol},
		{"array over limit", "*5\r\n", ReplyParser{MaxArray: 4}, ErrProtocol},
		{"too deep", strings.Repeat("*1\r\n", 40) + ":1\r\n", ReplyParser{}, ErrProtocol},
		{"long header", "$" + strings.Repeat("1", 40), ReplyParser{}, ErrProtocol},
		{"long line", "+" + strings.Repeat("x", 20), ReplyParser{MaxLine: 10}, ErrProtocol},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, n, err := tt.p.Parse([]byte(tt.in))
			if !errors.Is(err, tt.want) || n != 0 {
				t.Fatalf("Parse(%q) = n %d, err %v; want %v", tt.in, n, err, tt.want)
			}
		})
	}
}

func TestReplyErr(t *testing.T) {
	t.Parallel()
	var p ReplyParser
	r, _, err := p.Parse([]byte("-WRONGTYPE bad\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	var se *ServerError
	if !errors.As(r.Err(), &se) || se.Msg != "WRONGTYPE bad" {
		t.Fatalf("Err() = %v", r.Err())
	}
}

func TestReplyParserBulkDoesNotAllocate(t *testing.T) {
	var p ReplyParser
	in := AppendBulk(nil, []byte(strings.Repeat("v", 64)))
	allocs := testing.AllocsPerRun(100, func() {
		if _, _, err := p.Parse(in); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Parse of a bulk reply: %v allocs, want 0", allocs)
	}
}

func BenchmarkReplyParserBulk(b *testing.B) {
	var p ReplyParser
	in := AppendBulk(nil, []byte(strings.Repeat("v", 64)))
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if _, _, err := p.Parse(in); err != nil {
			b.Fatal(err)
		}
	}
}
