package resp

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// The fuzz targets check that the parsers never panic, always make progress,
// and are incremental: feeding the input in two pieces, cut anywhere, gives
// exactly what parsing it whole gives, including where a protocol error is
// reported (a prefix may only ever be "incomplete", never "malformed", when
// the whole input would parse).

func replySeeds(f *testing.F) {
	f.Add([]byte(recordedStream), uint(7))
	f.Add([]byte("*2\r\n$3\r\nfoo\r\n*1\r\n:1\r\n"), uint(3))
	f.Add([]byte("$-1\r\n+OK\r\n-ERR x\r\n"), uint(0))
	f.Add([]byte("$5\r\nab"), uint(2))
	f.Add([]byte("*1\r\n*1\r\n*1\r\n*1\r\n"), uint(5))
	f.Add([]byte(":-9223372036854775808\r\n:9223372036854775807\r\n"), uint(10))
}

func FuzzReplyParser(f *testing.F) {
	replySeeds(f)
	f.Fuzz(func(t *testing.T, data []byte, cut uint) {
		p := ReplyParser{MaxBulk: 1 << 16, MaxArray: 1 << 12}
		whole, _, wholeErr := parseAll(&p, data)
		c := int(cut % uint(len(data)+1))
		split, splitErr := parseStream(&p, data, c)
		if !slices.Equal(whole, split) || errors.Is(wholeErr, ErrIncomplete) != errors.Is(splitErr, ErrIncomplete) {
			t.Fatalf("cut %d: whole %q (%v), split %q (%v)", c, whole, wholeErr, split, splitErr)
		}
		if wholeErr != nil && !errors.Is(wholeErr, ErrIncomplete) && !errors.Is(wholeErr, ErrProtocol) {
			t.Fatalf("error wraps neither ErrIncomplete nor ErrProtocol: %v", wholeErr)
		}
	})
}

// FuzzRequestParser feeds the input whole, cut once at cut, and cut at up to
// eight random points drawn from cut as a seed (as a server's reads split a
// stream): every split must give the same requests, and the same error, as
// one read.
func FuzzRequestParser(f *testing.F) {
	f.Add(AppendCommand(nil, "GET", "item:1"), uint(5))
	f.Add([]byte("PING\r\nGET a\n\r\n*0\r\n"), uint(3))
	f.Add([]byte("*2\r\n$3\r\nSET\r\n$-1\r\n"), uint(9))
	f.Add([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4\r\na\r\nb\r\n"), uint(20))
	f.Add([]byte("*1\r\n:1\r\n"), uint(1))
	f.Add(append(AppendCommand(nil, "MGET", "a", "bb", "", "ccc"), "PING\r\n*1\r\n$4\r\nPI"...), uint(77))
	f.Add([]byte("*2\r\n$3\r\nGET\r\n$2\r\nabXY*1\r\n"), uint(11))
	f.Fuzz(func(t *testing.T, data []byte, cut uint) {
		whole, wholeErr := parseRequestsStream(data)
		c := int(cut % uint(len(data)+1))
		for _, cuts := range [][]int{{c}, randomCuts(len(data), uint64(cut))} {
			split, splitErr := parseRequestsStream(data, cuts...)
			if whole != split || (wholeErr == nil) != (splitErr == nil) {
				t.Fatalf("cuts %v: whole %q (%v), split %q (%v)", cuts, whole, wholeErr, split, splitErr)
			}
		}
		if wholeErr != nil && !errors.Is(wholeErr, ErrProtocol) {
			t.Fatalf("error does not wrap ErrProtocol: %v", wholeErr)
		}
	})
}

// randomCuts returns up to eight increasing split points in [0, n], drawn
// from seed.
func randomCuts(n int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	cuts := make([]int, r.IntN(9))
	for i := range cuts {
		cuts[i] = r.IntN(n + 1)
	}
	slices.Sort(cuts)
	return cuts
}
