package resp

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Limits the parsers apply when their fields are zero.
const (
	// DefaultMaxBulk is Redis's own proto-max-bulk-len.
	DefaultMaxBulk = 512 << 20
	// DefaultMaxArray bounds the element count of one array: MGET and
	// pipelined batches stay far below a million.
	DefaultMaxArray = 1 << 20
	// DefaultMaxDepth bounds array nesting; real replies nest two or three
	// deep, and the bound keeps hostile input from exhausting the stack.
	DefaultMaxDepth = 32
	// DefaultMaxLine bounds a simple string, error or inline request line:
	// Redis's PROTO_INLINE_MAX_SIZE.
	DefaultMaxLine = 64 << 10
)

// Kind is the type of a RESP value: its leading byte.
type Kind byte

// The RESP2 kinds.
const (
	KindSimple Kind = '+'
	KindError  Kind = '-'
	KindInt    Kind = ':'
	KindBulk   Kind = '$'
	KindArray  Kind = '*'
)

func (k Kind) String() string {
	switch k {
	case KindSimple:
		return "simple"
	case KindError:
		return "error"
	case KindInt:
		return "int"
	case KindBulk:
		return "bulk"
	case KindArray:
		return "array"
	}
	return "Kind(" + strconv.Quote(string(rune(k))) + ")"
}

// Reply is one parsed RESP value. Str and Elems alias the parsed buffer and
// the parser's memory: they are valid until the buffer changes or the parser
// is called again. Copy what must outlive that.
type Reply struct {
	Kind  Kind
	Str   []byte  // simple string, error message (without '-') or bulk payload; nil when Null
	Int   int64   // integer value; for bulk and array the length (-1 when Null)
	Null  bool    // the null bulk ($-1) or null array (*-1)
	Elems []Reply // array elements
}

// Err returns a *ServerError for an error reply and nil otherwise.
func (r Reply) Err() error {
	if r.Kind == KindError {
		return &ServerError{Msg: string(r.Str)}
	}
	return nil
}

// String formats r for tests and diagnostics, e.g. `["a" nil :3]`.
func (r Reply) String() string {
	var b strings.Builder
	r.format(&b)
	return b.String()
}

func (r Reply) format(b *strings.Builder) {
	switch {
	case r.Null:
		b.WriteString("nil")
	case r.Kind == KindSimple:
		b.WriteString("+" + strconv.Quote(string(r.Str)))
	case r.Kind == KindError:
		b.WriteString("-" + strconv.Quote(string(r.Str)))
	case r.Kind == KindInt:
		b.WriteString(":" + strconv.FormatInt(r.Int, 10))
	case r.Kind == KindBulk:
		b.WriteString(strconv.Quote(string(r.Str)))
	case r.Kind == KindArray:
		b.WriteByte('[')
		for i, e := range r.Elems {
			if i > 0 {
				b.WriteByte(' ')
			}
			e.format(b)
		}
		b.WriteByte(']')
	default:
		fmt.Fprintf(b, "?%v", r.Kind)
	}
}

// ReplyParser decodes replies. The zero value is ready to use with the
// default limits; set the fields to change them. It keeps no partial state
// between calls (see the package comment), only memory for array elements,
// so one parser serves one connection.
type ReplyParser struct {
	MaxBulk  int // largest bulk string accepted; 0 means DefaultMaxBulk
	MaxArray int // most elements in one array; 0 means DefaultMaxArray
	MaxDepth int // deepest array nesting; 0 means DefaultMaxDepth
	MaxLine  int // longest simple string or error; 0 means DefaultMaxLine

	elems []Reply // element storage for arrays, reused between calls
}

// Parse decodes the reply at the front of buf and returns it with the
// number of bytes it spans. It returns ErrIncomplete if buf holds only part
// of a reply, and an error wrapping ErrProtocol for malformed or oversized
// input. Parsing a bulk reply does not allocate.
func (p *ReplyParser) Parse(buf []byte) (r Reply, n int, err error) {
	p.elems = p.elems[:0]
	r, n, err = p.parse(buf, 0)
	if err != nil {
		return Reply{}, 0, err
	}
	return r, n, nil
}

func (p *ReplyParser) parse(buf []byte, depth int) (Reply, int, error) {
	if len(buf) == 0 {
		return Reply{}, 0, ErrIncomplete
	}
	switch k := Kind(buf[0]); k {
	case KindSimple, KindError:
		line, n, err := readLine(buf[1:], orDefault(p.MaxLine, DefaultMaxLine))
		if err != nil {
			return Reply{}, 0, err
		}
		return Reply{Kind: k, Str: line}, n + 1, nil
	case KindInt:
		v, n, err := readHeader(buf)
		return Reply{Kind: k, Int: v}, n, err
	case KindBulk:
		size, n, err := readHeader(buf)
		if err != nil {
			return Reply{}, 0, err
		}
		str, m, err := bulkPayload(buf, n, size, orDefault(p.MaxBulk, DefaultMaxBulk))
		if err != nil {
			return Reply{}, 0, err
		}
		return Reply{Kind: k, Str: str, Int: size, Null: size == -1}, m, nil
	case KindArray:
		return p.parseArray(buf, depth)
	default:
		return Reply{}, 0, protocolError("unexpected type byte %q", buf[0])
	}
}

// bulkPayload returns the payload of a bulk string of size bytes whose
// header spans buf[:hdr], and the bytes header and payload span.
func bulkPayload(buf []byte, hdr int, size int64, maxBulk int) ([]byte, int, error) {
	switch {
	case size == -1:
		return nil, hdr, nil
	case size < -1:
		return nil, 0, protocolError("bad bulk length %d", size)
	case size > int64(maxBulk):
		return nil, 0, protocolError("bulk length %d over the limit of %d", size, maxBulk)
	}
	end := hdr + int(size)
	if len(buf) < end+2 {
		return nil, 0, ErrIncomplete
	}
	if buf[end] != '\r' || buf[end+1] != '\n' {
		return nil, 0, protocolError("bulk string not ended by CRLF")
	}
	return buf[hdr:end:end], end + 2, nil
}

func (p *ReplyParser) parseArray(buf []byte, depth int) (Reply, int, error) {
	count, n, err := readHeader(buf)
	switch {
	case err != nil:
		return Reply{}, 0, err
	case count == -1:
		return Reply{Kind: KindArray, Int: -1, Null: true}, n, nil
	case count < -1:
		return Reply{}, 0, protocolError("bad array length %d", count)
	case count > int64(orDefault(p.MaxArray, DefaultMaxArray)):
		return Reply{}, 0, protocolError("array length %d over the limit of %d", count, orDefault(p.MaxArray, DefaultMaxArray))
	case depth >= orDefault(p.MaxDepth, DefaultMaxDepth):
		return Reply{}, 0, protocolError("arrays nested deeper than %d", orDefault(p.MaxDepth, DefaultMaxDepth))
	}
	c := int(count)
	// Every value takes at least 3 bytes ("+\r\n"): checking that first
	// means a huge announced count cannot make us allocate before its bytes
	// have arrived.
	if len(buf)-n < 3*c {
		return Reply{}, 0, ErrIncomplete
	}
	// Elements are stored in p.elems. Nested arrays append their own
	// elements after ours, which may move the storage; we therefore index
	// p.elems afresh and slice it only once all our elements are final.
	// A child's Elems taken before a move keeps pointing at the old array,
	// whose contents for that child are already final.
	start := len(p.elems)
	p.elems = slices.Grow(p.elems, c)[:start+c]
	for i := 0; i < c; i++ {
		e, m, err := p.parse(buf[n:], depth+1)
		if err != nil {
			return Reply{}, 0, err
		}
		p.elems[start+i] = e
		n += m
	}
	return Reply{Kind: KindArray, Int: count, Elems: p.elems[start : start+c : start+c]}, n, nil
}

func orDefault(v, def int) int {
	if v <= 0 {
		return def
	}
	return v
}
