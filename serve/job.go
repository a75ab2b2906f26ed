package serve

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/concbench/concbench/workloads/resp"
)

// ProtocolVersion is the version of the out-of-process serve protocol
// (PROTOCOL.md in this directory).
const ProtocolVersion = 1

// Job is the one JSON line a server in another process reads on its stdin
// (PROTOCOL.md): what it serves, where it listens, where the backend is.
// Exactly one of ListenFD and Listen is set.
type Job struct {
	Protocol int               `json:"protocol"`
	Mode     string            `json:"mode"`   // "serve"
	Server   string            `json:"server"` // the server model's name, e.g. "py-asyncio"
	Params   map[string]string `json:"params,omitempty"`
	// ListenFD is an inherited listening TCP socket (3 is the first of
	// exec's extra files): the parent bound it, so its address is known
	// before the child starts and connections wait in its backlog.
	ListenFD int `json:"listen_fd,omitempty"`
	// Listen is a host:port to bind instead, for servers that must own
	// their socket. Always a loopback address.
	Listen   string   `json:"listen,omitempty"`
	Backends []string `json:"backends"`
	// Auth is what every backend connection sends first (Env.Credentials):
	// absent when the backend wants nothing.
	Auth          *Auth         `json:"auth,omitempty"`
	Pages         int           `json:"pages"`
	ValueSize     int           `json:"value_size"`
	FetchTimeout  time.Duration `json:"fetch_timeout_ns"`
	HeaderTimeout time.Duration `json:"header_timeout_ns"`
	IdleTimeout   time.Duration `json:"idle_timeout_ns"`
	MaxHead       int           `json:"max_head"` // bytes of a request head (request line and headers)
}

// NewJob returns the job line for a server named server with params,
// serving env (defaults applied) on the inherited socket fd (when fd > 0)
// or on listen.
func NewJob(server string, params map[string]string, env Env, fd int, listen string) (Job, error) {
	env, err := env.WithDefaults()
	if err != nil {
		return Job{}, err
	}
	if (fd > 0) == (listen != "") {
		return Job{}, fmt.Errorf("serve: job for %s needs exactly one of an inherited socket and a listen address", server)
	}
	return Job{Protocol: ProtocolVersion, Mode: "serve", Server: server, Params: params,
		ListenFD: fd, Listen: listen, Backends: env.Backends, Auth: NewAuth(env.Credentials),
		Pages: env.Pages, ValueSize: env.ValueSize,
		FetchTimeout: env.FetchTimeout, HeaderTimeout: env.Limits.HeaderTimeout,
		IdleTimeout: env.Limits.IdleTimeout, MaxHead: env.MaxHead()}, nil
}

// Auth is the job line's "auth": the AUTH a program in another process
// sends on every backend connection before anything else, and expects +OK
// to (resp.Credentials as JSON). The job line travels on the child's
// stdin, never on its command line.
type Auth struct {
	User     string `json:"user,omitempty"` // empty: AUTH password (the default user)
	Password string `json:"password"`
}

// NewAuth returns the job line's auth for c: nil when c asks for no AUTH.
func NewAuth(c resp.Credentials) *Auth {
	if c.None() {
		return nil
	}
	return &Auth{User: c.User, Password: c.Password}
}

// Line returns the job as the one line written to the child, newline
// included.
func (j Job) Line() ([]byte, error) {
	b, err := json.Marshal(j)
	if err != nil {
		return nil, fmt.Errorf("serve: encode job: %w", err)
	}
	return append(b, '\n'), nil
}
