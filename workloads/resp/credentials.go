package resp

import (
	"errors"
	"fmt"
)

// Credentials are what every connection to a server that requires a
// password sends first: AUTH password, or AUTH user password (Redis 6
// ACLs). The zero value means the server requires nothing, and a client
// sends no AUTH. A harness fills them from the backend's URL and gives
// them to every party that connects: its own loader and control
// connections, and the strategies' connections.
//
// String never shows the password, so Credentials may be printed or
// wrapped into errors.
type Credentials struct {
	User     string // empty: the default user (AUTH password)
	Password string // empty: no AUTH at all
}

// None reports whether the credentials ask for no AUTH.
func (c Credentials) None() bool { return c.Password == "" }

// String describes the credentials without the password.
func (c Credentials) String() string {
	switch {
	case c.None():
		return "no AUTH"
	case c.User == "":
		return "AUTH with a password"
	}
	return fmt.Sprintf("AUTH as %q with a password", c.User)
}

// AppendAuth appends the AUTH request for c to dst (nothing when c is
// None), for a client that writes its own bytes, as an event loop does:
// it queues the request ahead of any other on a fresh connection and
// checks the first reply with CheckAuthReply.
func (c Credentials) AppendAuth(dst []byte) []byte {
	switch {
	case c.None():
		return dst
	case c.User == "":
		return AppendCommand(dst, "AUTH", c.Password)
	}
	return AppendCommand(dst, "AUTH", c.User, c.Password)
}

// ErrAuthRefused is wrapped by CheckAuthReply's error, and so by
// Client.Login's, when the server answered AUTH with an error reply: a
// wrong password (WRONGPASS), or a server that has none (ERR ...).
var ErrAuthRefused = errors.New("resp: AUTH refused")

// CheckAuthReply checks the reply to AUTH: +OK, or an error wrapping
// ErrAuthRefused and the *ServerError. A reply of another kind means the
// stream is out of step (or the peer is not a RESP server): an error that
// does not wrap ErrAuthRefused.
func CheckAuthReply(r Reply) error {
	switch {
	case r.Kind == KindError:
		return fmt.Errorf("%w: %w", ErrAuthRefused, r.Err())
	case r.Kind != KindSimple || string(r.Str) != "OK":
		return fmt.Errorf("resp: AUTH: unexpected reply %s", r)
	}
	return nil
}

// Login authenticates the connection with cred, when cred asks for AUTH;
// it sends nothing otherwise. A refusal wraps ErrAuthRefused and the
// server's *ServerError; the password never appears in the error.
func (c *Client) Login(cred Credentials) error {
	if cred.None() {
		return nil
	}
	return c.Auth(cred.User, cred.Password)
}
