package reactor

import "github.com/concbench/concbench/workloads/resp"

const (
	// initialReadBuffer is a connection's first read buffer: one page, which
	// holds the reply of a default I/O workload (64–128 byte values) many
	// times over. Larger replies grow it by doubling.
	initialReadBuffer = 4 << 10
	// minReadSpace is the least free space offered to a read: below it the
	// buffer compacts or grows first, so a read is never a few bytes.
	minReadSpace = 512
)

// inbuf is a connection's read buffer: bytes read but not yet parsed are
// buf[r:w]. The RESP parser keeps no state between calls, so a reply split
// across reads is parsed again from its first byte once more bytes arrive;
// for a bulk reply that is only its header, as the parser checks the
// announced length before touching the payload.
type inbuf struct {
	buf  []byte
	r, w int
}

// space returns the free tail of the buffer for the next read, compacting
// or growing it when less than minReadSpace is free.
func (b *inbuf) space() []byte {
	if b.r == b.w {
		b.r, b.w = 0, 0
	}
	if b.buf == nil {
		b.buf = make([]byte, initialReadBuffer)
	}
	if len(b.buf)-b.w < minReadSpace {
		if b.r > 0 { // a partial reply at the tail: move it to the front
			b.w = copy(b.buf, b.buf[b.r:b.w])
			b.r = 0
		}
		if len(b.buf)-b.w < minReadSpace { // one reply fills the buffer
			grown := make([]byte, 2*len(b.buf))
			copy(grown, b.buf[:b.w])
			b.buf = grown
		}
	}
	return b.buf[b.w:]
}

// commit records that n bytes were read into the slice space returned.
func (b *inbuf) commit(n int) { b.w += n }

// next parses the reply at the front of the unparsed bytes and consumes it.
// It returns resp.ErrIncomplete when no whole reply is buffered. The reply
// aliases the buffer: it is valid until the next call to space.
func (b *inbuf) next(p *resp.ReplyParser) (resp.Reply, error) {
	r, n, err := p.Parse(b.buf[b.r:b.w])
	if err != nil {
		return resp.Reply{}, err
	}
	b.r += n
	return r, nil
}

// buffered returns the number of unparsed bytes.
func (b *inbuf) buffered() int { return b.w - b.r }

// reset drops unparsed bytes and, if the buffer grew past its initial size
// for a large reply, the memory too.
func (b *inbuf) reset() {
	b.r, b.w = 0, 0
	if len(b.buf) > initialReadBuffer {
		b.buf = nil
	}
}
