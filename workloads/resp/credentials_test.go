package resp_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/concbench/concbench/workloads/backend"
	"github.com/concbench/concbench/workloads/resp"
)

func TestCredentialsAppendAuth(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cred resp.Credentials
		want string // the request's arguments joined by |, "" for none
	}{
		{resp.Credentials{}, ""},
		{resp.Credentials{User: "alice"}, ""}, // no password: no AUTH
		{resp.Credentials{Password: "pw"}, "AUTH|pw"},
		{resp.Credentials{User: "alice", Password: "p w\r\n"}, "AUTH|alice|p w\r\n"},
	} {
		b := tt.cred.AppendAuth([]byte("x"))
		if string(b[:1]) != "x" {
			t.Fatalf("AppendAuth overwrote dst: %q", b)
		}
		b = b[1:]
		got := ""
		if len(b) > 0 {
			var p resp.RequestParser
			args, n, err := p.Parse(b)
			if err != nil || n != len(b) {
				t.Fatalf("%+v: AppendAuth wrote %q, which parses as %d bytes, %v", tt.cred, b, n, err)
			}
			parts := make([]string, len(args))
			for i, a := range args {
				parts[i] = string(a)
			}
			got = strings.Join(parts, "|")
		}
		if got != tt.want || tt.cred.None() != (tt.want == "") {
			t.Errorf("%+v: AppendAuth = %q (None %t), want %q", tt.cred, got, tt.cred.None(), tt.want)
		}
		if s := tt.cred.String(); tt.cred.Password != "" && strings.Contains(s, tt.cred.Password) {
			t.Errorf("String() shows the password: %q", s)
		}
	}
}

func TestCheckAuthReply(t *testing.T) {
	t.Parallel()
	if err := resp.CheckAuthReply(resp.Reply{Kind: resp.KindSimple, Str: []byte("OK")}); err != nil {
		t.Fatal(err)
	}
	err := resp.CheckAuthReply(resp.Reply{Kind: resp.KindError, Str: []byte("WRONGPASS invalid")})
	var se *resp.ServerError
	if !errors.Is(err, resp.ErrAuthRefused) || !errors.As(err, &se) || se.Msg != "WRONGPASS invalid" {
		t.Fatalf("an error reply: %v; want ErrAuthRefused wrapping the server's error", err)
	}
	// Out of step, or not a RESP server at all: not a refusal.
	for _, r := range []resp.Reply{{Kind: resp.KindSimple, Str: []byte("PONG")}, {Kind: resp.KindInt, Int: 1}, {Kind: resp.KindBulk, Null: true}} {
		if err := resp.CheckAuthReply(r); err == nil || errors.Is(err, resp.ErrAuthRefused) {
			t.Errorf("reply %s: %v; want an error that is not ErrAuthRefused", r, err)
		}
	}
}

// Login against a real server that requires a token, and one that has
// none.
func TestLogin(t *testing.T) {
	t.Parallel()
	const token = "t0ken-for-login"
	ctx := context.Background()
	s, err := backend.Start(ctx, backend.Config{Auth: token})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	dial := func(addr string) *resp.Client {
		c, err := resp.Dial(ctx, addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}

	c := dial(s.Addr())
	if err := c.Login(resp.Credentials{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get("k"); err == nil || !strings.Contains(err.Error(), "NOAUTH") {
		t.Fatalf("GET without AUTH: %v; want NOAUTH (Login with no credentials must send nothing)", err)
	}
	if err := c.Login(resp.Credentials{Password: token}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Get("k"); err != nil {
		t.Fatalf("GET after Login: %v", err)
	}

	for _, cred := range []resp.Credentials{{Password: "wrong"}, {User: "nobody", Password: token}} {
		err := dial(s.Addr()).Login(cred)
		if !errors.Is(err, resp.ErrAuthRefused) || !strings.Contains(err.Error(), "WRONGPASS") || strings.Contains(err.Error(), token) {
			t.Errorf("Login(%v): %v; want ErrAuthRefused with WRONGPASS and no password", cred, err)
		}
	}

	open, err := backend.Start(ctx, backend.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	if err := dial(open.Addr()).Login(resp.Credentials{Password: "unneeded"}); !errors.Is(err, resp.ErrAuthRefused) {
		t.Errorf("Login to a server without a password: %v; want ErrAuthRefused", err)
	}
}
