package resp

import (
	"errors"
	"fmt"
)

var (
	// ErrIncomplete is returned by the parsers when the buffer does not yet
	// hold a whole value. Nothing was consumed: read more and parse again.
	ErrIncomplete = errors.New("resp: incomplete value")

	// ErrProtocol is wrapped by every parse error caused by malformed or
	// oversized input. The stream cannot be resynchronized after one.
	ErrProtocol = errors.New("resp: protocol error")

	// ErrNil is wrapped by [Client.Get] when the server answers a null
	// bulk string (the key does not exist).
	ErrNil = errors.New("resp: nil reply")
)

// ServerError is an error reply (-ERR ...) from the server, as returned by
// the client's calls. Callers use errors.As to tell it from I/O errors.
type ServerError struct {
	Msg string // the reply without the leading '-', e.g. "ERR unknown command"
}

func (e *ServerError) Error() string { return "resp: server error: " + e.Msg }

// protocolError returns an error wrapping ErrProtocol with the reason.
func protocolError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrProtocol, fmt.Sprintf(format, args...))
}
