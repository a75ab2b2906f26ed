package reactor

import (
	"errors"
	"strings"
	"testing"

	"github.com/concbench/concbench/workloads/resp"
)

// replyStream returns the replies a backend sends, back to back, and their
// payloads: values of several sizes, one larger than the initial buffer, an
// error and a null.
func replyStream() ([]byte, []string) {
	var stream []byte
	var want []string
	for i, size := range []int{64, 1, 0, 300, initialReadBuffer*2 + 17, 64, 128} {
		v := strings.Repeat(string(rune('a'+i)), size)
		stream = resp.AppendBulkString(stream, v)
		want = append(want, v)
	}
	stream = resp.AppendError(stream, "ERR boom")
	want = append(want, "-ERR boom")
	stream = resp.AppendNull(stream)
	want = append(want, "nil")
	return stream, want
}

func show(r resp.Reply) string {
	switch {
	case r.Kind == resp.KindError:
		return "-" + string(r.Str)
	case r.Null:
		return "nil"
	}
	return string(r.Str)
}

// feed delivers stream to an inbuf in reads of the given sizes (cycled)
// and returns every reply parsed, as the loop's read/dispatch cycle does.
func feed(t testing.TB, stream []byte, sizes []int) []string {
	var b inbuf
	var p resp.ReplyParser
	var got []string
	for off, k := 0, 0; off < len(stream); k++ {
		space := b.space()
		if len(space) < minReadSpace {
			t.Fatalf("space offered %d bytes, under %d", len(space), minReadSpace)
		}
		n := min(sizes[k%len(sizes)], len(space), len(stream)-off)
		copy(space, stream[off:off+n])
		b.commit(n)
		off += n
		for {
			r, err := b.next(&p)
			if errors.Is(err, resp.ErrIncomplete) {
				break
			}
			if err != nil {
				t.Fatalf("after %d bytes: %v", off, err)
			}
			got = append(got, show(r))
		}
	}
	if b.buffered() != 0 {
		t.Fatalf("%d bytes left unparsed", b.buffered())
	}
	return got
}

func TestInbufSplitsAtEveryByteBoundary(t *testing.T) {
	t.Parallel()
	stream, want := replyStream()
	check := func(name string, got []string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d replies, want %d", name, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s: reply %d = %.20q, want %.20q", name, i, got[i], want[i])
			}
		}
	}
	// Two reads, split at every byte: every reply cut at every offset.
	for cut := 1; cut < len(stream); cut++ {
		check("cut", feed(t, stream, []int{cut, len(stream)}))
	}
	// A byte at a time, and a few uneven read sizes.
	for _, sizes := range [][]int{{1}, {2, 3}, {7, 1, 500}, {minReadSpace}, {1 << 20}} {
		check("sizes", feed(t, stream, sizes))
	}
}

func TestInbufResetDropsGrownMemory(t *testing.T) {
	t.Parallel()
	stream, _ := replyStream()
	feed(t, stream, []int{len(stream)})
	var b inbuf
	for b.w < initialReadBuffer*3 {
		b.commit(len(b.space()))
	}
	b.reset()
	if b.buf != nil || b.buffered() != 0 {
		t.Fatalf("reset kept %d bytes of buffer, %d unparsed", len(b.buf), b.buffered())
	}
}

// FuzzInbuf checks that however a reply stream is cut into reads, the
// buffer yields the same replies as parsing the whole stream at once.
func FuzzInbuf(f *testing.F) {
	stream, _ := replyStream()
	f.Add(stream[:200], []byte{1, 2, 3})
	f.Add([]byte("$3\r\nabc\r\n+OK\r\n:12\r\n*2\r\n$1\r\na\r\n$-1\r\n"), []byte{1})
	f.Add([]byte("$5\r\nab"), []byte{4})
	f.Fuzz(func(t *testing.T, stream, cuts []byte) {
		var whole []string
		var p resp.ReplyParser
		rest := stream
		for len(rest) > 0 {
			r, n, err := p.Parse(rest)
			if err != nil {
				break
			}
			whole = append(whole, r.String())
			rest = rest[n:]
		}
		if len(cuts) == 0 {
			cuts = []byte{1}
		}
		var b inbuf
		var q resp.ReplyParser
		var got []string
		for off, k := 0, 0; off < len(stream); k++ {
			space := b.space()
			n := min(int(cuts[k%len(cuts)])+1, len(space), len(stream)-off)
			copy(space, stream[off:off+n])
			b.commit(n)
			off += n
			for {
				r, err := b.next(&q)
				if err != nil {
					break
				}
				got = append(got, r.String())
			}
		}
		// A malformed stream stops both parses at the same reply.
		if len(got) != len(whole) {
			t.Fatalf("chunked parse got %d replies, whole parse %d", len(got), len(whole))
		}
		for i := range whole {
			if got[i] != whole[i] {
				t.Fatalf("reply %d: chunked %q, whole %q", i, got[i], whole[i])
			}
		}
	})
}
