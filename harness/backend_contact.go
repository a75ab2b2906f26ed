package harness

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/concbench/concbench/workloads/resp"
)

// contactTimeout bounds the first contact with a server given by URL:
// connecting, AUTH and PING, each. A server on another machine that has
// not answered by then is down, or behind a firewall that drops packets.
const contactTimeout = 10 * time.Second

// contact connects to addr, authenticates with cred and checks that the
// server answers PING, within contactTimeout for each, or within what is
// left of ctx if that is less. Requests on the client it returns then get
// requestTimeout. secret names what cred's password is to the user
// ("password", "token"). Its error is one line that says what went wrong
// in the user's terms: a name that does not resolve, nothing listening, no
// answer, a refused or missing password, a server that does not speak
// RESP.
func contact(ctx context.Context, addr string, cred resp.Credentials, requestTimeout time.Duration, secret string) (*resp.Client, error) {
	timeout := contactTimeout
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, max(time.Until(d), time.Millisecond))
	}
	c, err := resp.DialLogin(ctx, addr, cred, timeout, timeout)
	if err == nil {
		if err = c.Ping(); err != nil {
			c.Close()
		}
	}
	if err != nil {
		return nil, explainContact(err, timeout, secret)
	}
	c.SetTimeout(requestTimeout)
	return c, nil
}

// explainContact turns the error of a first contact into what the user
// needs to know (see contact); secret names what the URL's password is
// ("password", "token").
func explainContact(err error, timeout time.Duration, secret string) error {
	var (
		dnsErr    *net.DNSError
		serverErr *resp.ServerError
		netErr    net.Error
	)
	switch {
	case errors.As(err, &dnsErr):
		if dnsErr.IsNotFound {
			return fmt.Errorf("cannot resolve host %q: no such host", dnsErr.Name)
		}
		return fmt.Errorf("cannot resolve host %q: %v", dnsErr.Name, dnsErr.Err)
	case errors.Is(err, syscall.ECONNREFUSED):
		return errors.New("connection refused: nothing listens there (is the server running, and listening on that address?)")
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return fmt.Errorf("cannot reach the host (%v)", innermost(err))
	case errors.Is(err, resp.ErrAuthRefused) && errors.As(err, &serverErr):
		if strings.HasPrefix(serverErr.Msg, "WRONGPASS") {
			return fmt.Errorf("wrong %s: the server refused it (%s)", secret, serverErr.Msg)
		}
		return fmt.Errorf("the URL gives a %s, but the server refused AUTH (%s): does it have one?", secret, serverErr.Msg)
	case errors.As(err, &serverErr) && strings.HasPrefix(serverErr.Msg, "NOAUTH"):
		return fmt.Errorf("the server requires a %s, and the URL gives none (%s)", secret, serverErr.Msg)
	case errors.Is(err, resp.ErrProtocol):
		return fmt.Errorf("it does not speak the Redis protocol (RESP): %s", protocolReason(err))
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		return errors.New("it closed the connection without answering: not a Redis-protocol server, or one that refuses this client")
	case errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Errorf("no answer within %v (a host that is down, a firewall that drops packets, or a server that does not speak RESP)", timeout.Round(10*time.Millisecond))
	}
	return err
}

// innermost returns the error at the end of err's chain of wrapping.
func innermost(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}

// protocolReason is the innermost message of a RESP protocol error:
// "unexpected type byte 'H'".
func protocolReason(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, resp.ErrProtocol.Error()+": "); i >= 0 {
		return s[i+len(resp.ErrProtocol.Error())+2:]
	}
	return s
}

// contactAll contacts every server at once, so that several that do not
// answer cost one timeout, not one each; it returns the clients in the
// order of addrs, or the first error in that order (closing the rest).
func contactAll(ctx context.Context, addrs []string, cred resp.Credentials, requestTimeout time.Duration, secret string,
	name func(addr string) string) ([]*resp.Client, error) {
	clients := make([]*resp.Client, len(addrs))
	errs := make([]error, len(addrs))
	var wg sync.WaitGroup
	for i, a := range addrs {
		wg.Go(func() { clients[i], errs[i] = contact(ctx, a, cred, requestTimeout, secret) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			for _, c := range clients {
				if c != nil {
					c.Close()
				}
			}
			return nil, fmt.Errorf("%s: %w", name(addrs[i]), err)
		}
	}
	return clients, nil
}
