package resp

import "bytes"

// maxHeaderLine bounds the line of an integer, bulk or array header: a type
// byte, a sign and 19 digits fit in 21 bytes; 32 leaves room and still fails
// fast on garbage.
const maxHeaderLine = 32

// readLine returns the line at the front of buf without its CRLF and the
// bytes it spans including CRLF. A line longer than max without CRLF is a
// protocol error, decided from the first max+2 bytes alone so that a prefix
// of a stream never fails where the whole stream would parse.
func readLine(buf []byte, max int) (line []byte, n int, err error) {
	lim := buf
	if len(lim) > max+2 {
		lim = lim[:max+2]
	}
	i := bytes.IndexByte(lim, '\n')
	if i < 0 {
		if len(buf) >= max+2 {
			return nil, 0, protocolError("line longer than %d bytes", max)
		}
		return nil, 0, ErrIncomplete
	}
	if i == 0 || buf[i-1] != '\r' {
		return nil, 0, protocolError("line not ended by CRLF")
	}
	return buf[: i-1 : i-1], i + 1, nil
}

// parseInt parses a decimal integer of at most 19 digits with an optional
// minus sign, as RESP headers and integer replies carry. It does not
// allocate, unlike strconv.ParseInt(string(b)) on a slice.
func parseInt(b []byte) (int64, error) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, protocolError("bad integer %q", b)
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, protocolError("bad integer %q", b)
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 {
		return 0, protocolError("integer out of range")
	}
	if neg {
		return -int64(n), nil
	}
	return int64(n), nil
}

// readHeader parses a header line "<typ><int>CRLF" at the front of buf.
func readHeader(buf []byte) (v int64, n int, err error) {
	line, n, err := readLine(buf[1:], maxHeaderLine)
	if err != nil {
		return 0, 0, err
	}
	v, err = parseInt(line)
	if err != nil {
		return 0, 0, err
	}
	return v, n + 1, nil
}
