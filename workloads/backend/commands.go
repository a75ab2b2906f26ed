package backend

import (
	"crypto/subtle"
	"path"
	"strconv"
	"strings"
	"unsafe"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/resp"
)

// commandClass says which injections apply to a command.
type commandClass uint8

const (
	classAdmin commandClass = iota // CONCBENCH.*: neither latency nor faults, so a harness always gets through
	classQuit                      // QUIT: reply, then close
	classTimed                     // latency applies (PING, COMMAND, ...)
	classData                      // the workload's commands: latency and faults apply
)

// maxCommandName bounds the command names execute recognizes; longer names
// are unknown commands anyway.
const maxCommandName = 32

// execute runs one command and appends its reply to dst. args[0] is the
// command name, in any case. gets is the number of keys a GET or MGET asked
// for (see Stats).
func (c *conn) execute(dst []byte, args [][]byte) (_ []byte, _ commandClass, gets int) {
	var upper [maxCommandName]byte
	name := args[0]
	if len(name) > len(upper) {
		return unknownCommand(dst, name), classTimed, 0
	}
	for i, b := range name {
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		upper[i] = b
	}
	argv := args[1:]
	s := c.srv
	cmd := upper[:len(name)]
	if !c.authed {
		switch string(cmd) {
		case "AUTH":
			return c.auth(dst, argv), classAdmin, 0
		case "QUIT":
			return resp.AppendSimple(dst, "OK"), classQuit, 0
		}
		return resp.AppendError(dst, "NOAUTH Authentication required."), classAdmin, 0
	}
	switch string(cmd) { // the compiler does not allocate for this conversion
	case "GET":
		if len(argv) != 1 {
			return wrongArity(dst, "get"), classTimed, 0
		}
		v := s.derivation()
		if n := c.valueReplySize(argv[0], v); n > s.cfg.MaxQueuedBytes {
			return replyTooLarge(dst, n, s.cfg.MaxQueuedBytes), classData, 1
		}
		return c.appendValue(dst, argv[0], v), classData, 1
	case "MGET":
		if len(argv) == 0 {
			return wrongArity(dst, "mget"), classTimed, 0
		}
		v := s.derivation()
		n := 0
		for _, k := range argv {
			n += c.valueReplySize(k, v)
		}
		if n > s.cfg.MaxQueuedBytes {
			return replyTooLarge(dst, n, s.cfg.MaxQueuedBytes), classData, len(argv)
		}
		dst = resp.AppendArrayHeader(dst, len(argv))
		for _, k := range argv {
			dst = c.appendValue(dst, k, v)
		}
		return dst, classData, len(argv)
	case "SET":
		// Options (EX, NX, ...) are accepted and ignored: nothing expires here.
		if len(argv) < 2 {
			return wrongArity(dst, "set"), classTimed, 0
		}
		if !s.store.set(argv[0], argv[1]) {
			return resp.AppendError(dst, "OOM command not allowed: SET would hold more than the "+
				strconv.Itoa(s.cfg.MaxStoredBytes)+" bytes of keys and values this server stores (concbench backend --max-stored)"), classData, 0
		}
		return resp.AppendSimple(dst, "OK"), classData, 0
	case "DEL":
		if len(argv) == 0 {
			return wrongArity(dst, "del"), classTimed, 0
		}
		n := int64(0)
		for _, k := range argv {
			if s.store.del(k) {
				n++
			}
		}
		return resp.AppendInt(dst, n), classData, 0
	case "PING":
		switch len(argv) {
		case 0:
			return resp.AppendSimple(dst, "PONG"), classTimed, 0
		case 1:
			return resp.AppendBulk(dst, argv[0]), classTimed, 0
		}
		return wrongArity(dst, "ping"), classTimed, 0
	case "ECHO":
		if len(argv) != 1 {
			return wrongArity(dst, "echo"), classTimed, 0
		}
		return resp.AppendBulk(dst, argv[0]), classTimed, 0
	case "QUIT":
		return resp.AppendSimple(dst, "OK"), classQuit, 0
	case "COMMAND":
		// Clients ask for command metadata (redis-cli: COMMAND DOCS) and
		// cope with having none.
		if len(argv) > 0 && strings.EqualFold(string(argv[0]), "COUNT") {
			return resp.AppendInt(dst, 0), classTimed, 0
		}
		return resp.AppendArrayHeader(dst, 0), classTimed, 0
	case "HELLO":
		return c.hello(dst, argv), classTimed, 0
	case "CLIENT":
		if len(argv) > 0 && strings.EqualFold(string(argv[0]), "ID") {
			return resp.AppendInt(dst, int64(c.id)), classTimed, 0
		}
		return resp.AppendSimple(dst, "OK"), classTimed, 0 // SETNAME, SETINFO, ...: accepted
	case "SELECT":
		if len(argv) != 1 || string(argv[0]) != "0" {
			return resp.AppendError(dst, "ERR DB index is out of range"), classTimed, 0
		}
		return resp.AppendSimple(dst, "OK"), classTimed, 0
	case "DBSIZE":
		return resp.AppendInt(dst, s.store.n.Load()), classTimed, 0
	case "CONFIG":
		return c.config(dst, argv), classTimed, 0
	case "AUTH":
		return c.auth(dst, argv), classAdmin, 0
	case "INFO", "CONCBENCH.STATS":
		return resp.AppendBulkString(dst, s.Stats().String()), classAdmin, 0
	case "CONCBENCH.LATENCY":
		return c.latency(dst, argv), classAdmin, 0
	case "CONCBENCH.SECRET":
		return c.secret(dst, argv), classAdmin, 0
	case "CONCBENCH.VALUESIZE":
		return c.valueSize(dst, argv), classAdmin, 0
	case "CONCBENCH.WINDOW":
		if len(argv) != 0 {
			return wrongArity(dst, "concbench.window"), classAdmin, 0
		}
		return resp.AppendBulkString(dst, s.NextWindow().String()), classAdmin, 0
	case "CONCBENCH.PROFILE":
		return c.profile(dst, argv), classAdmin, 0
	}
	return unknownCommand(dst, name), classTimed, 0
}

// appendValue appends the bulk reply of GET key.
func (c *conn) appendValue(dst, key []byte, v derivation) []byte {
	if stored, ok := c.srv.store.get(key); ok {
		return resp.AppendBulk(dst, stored)
	}
	dst = resp.AppendBulkHeader(dst, v.size)
	// AppendSecretValue only reads the key during the call, so viewing the
	// request's bytes as a string is safe and saves a copy per GET.
	dst = workloads.AppendSecretValue(dst, v.secret, unsafe.String(unsafe.SliceData(key), len(key)), v.size)
	return append(dst, '\r', '\n')
}

// valueReplySize returns the bytes of appendValue's reply for key.
func (c *conn) valueReplySize(key []byte, v derivation) int {
	n, ok := c.srv.store.size(key)
	if !ok {
		n = v.size
	}
	return n + len("$\r\n\r\n") + digits(n)
}

func digits(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

func replyTooLarge(dst []byte, n, limit int) []byte {
	return resp.AppendError(dst, "ERR reply of "+strconv.Itoa(n)+" bytes over this server's limit of "+
		strconv.Itoa(limit)+" bytes of queued replies (concbench backend --max-queued)")
}

// auth answers AUTH [username] password. Only the default user exists, as
// in a Redis without ACLs.
func (c *conn) auth(dst []byte, argv [][]byte) []byte {
	want := c.srv.cfg.Auth
	var user, pass []byte
	switch len(argv) {
	case 1:
		pass = argv[0]
	case 2:
		user, pass = argv[0], argv[1]
	default:
		return wrongArity(dst, "auth")
	}
	if want == "" {
		return resp.AppendError(dst, "ERR AUTH <password> called without any password configured for the default user. "+
			"Are you sure your configuration is correct?")
	}
	if (user != nil && string(user) != "default") || subtle.ConstantTimeCompare(pass, []byte(want)) != 1 {
		return resp.AppendError(dst, "WRONGPASS invalid username-password pair or user is disabled.")
	}
	c.authed = true
	return resp.AppendSimple(dst, "OK")
}

// profile answers CONCBENCH.PROFILE START|STOP: STOP's reply is the CPU
// profile since START, gzipped pprof protobuf, as a bulk string.
func (c *conn) profile(dst []byte, argv [][]byte) []byte {
	if len(argv) != 1 {
		return wrongArity(dst, "concbench.profile")
	}
	switch {
	case strings.EqualFold(string(argv[0]), "START"):
		if err := c.srv.prof.start(); err != nil {
			return resp.AppendError(dst, "ERR "+err.Error())
		}
		return resp.AppendSimple(dst, "OK")
	case strings.EqualFold(string(argv[0]), "STOP"):
		data, err := c.srv.prof.stop()
		if err != nil {
			return resp.AppendError(dst, "ERR "+err.Error())
		}
		return resp.AppendBulk(dst, data)
	}
	return resp.AppendError(dst, "ERR CONCBENCH.PROFILE takes START or STOP")
}

// hello answers HELLO [protover ...]. Only RESP2 is spoken; clients that
// ask for 3 get NOPROTO and fall back, as they do with Redis 5.
func (c *conn) hello(dst []byte, argv [][]byte) []byte {
	if len(argv) > 0 && string(argv[0]) != "2" {
		return resp.AppendError(dst, "NOPROTO unsupported protocol version")
	}
	dst = resp.AppendArrayHeader(dst, 14)
	for _, kv := range [][2]string{
		{"server", "concbench"}, {"version", "7.0.0"}, {"mode", "standalone"}, {"role", "master"},
	} {
		dst = resp.AppendBulkString(dst, kv[0])
		dst = resp.AppendBulkString(dst, kv[1])
	}
	dst = resp.AppendBulkString(dst, "proto")
	dst = resp.AppendInt(dst, 2)
	dst = resp.AppendBulkString(dst, "id")
	dst = resp.AppendInt(dst, int64(c.id))
	dst = resp.AppendBulkString(dst, "modules")
	return resp.AppendArrayHeader(dst, 0)
}

// config answers CONFIG GET pattern...: the few parameters clients and
// tools read. Other subcommands are refused.
func (c *conn) config(dst []byte, argv [][]byte) []byte {
	if len(argv) < 2 || !strings.EqualFold(string(argv[0]), "GET") {
		return resp.AppendError(dst, "ERR only CONFIG GET is supported")
	}
	maxClients := c.srv.cfg.MaxConns
	if maxClients == 0 {
		maxClients = 10000 // Redis's default, for clients that size pools from it
	}
	params := [][2]string{
		{"appendonly", "no"},
		{"concbench.latency", c.srv.Latency().String()},
		{"concbench.value-size", strconv.Itoa(c.srv.derivation().size)},
		{"databases", "1"},
		{"maxclients", strconv.Itoa(maxClients)},
		{"save", ""},
	}
	var found []string
	for _, p := range params {
		for _, pat := range argv[1:] {
			if ok, _ := path.Match(strings.ToLower(string(pat)), p[0]); ok {
				found = append(found, p[0], p[1])
				break
			}
		}
	}
	dst = resp.AppendArrayHeader(dst, len(found))
	for _, f := range found {
		dst = resp.AppendBulkString(dst, f)
	}
	return dst
}

// latency answers CONCBENCH.LATENCY [distribution]: set, or get.
func (c *conn) latency(dst []byte, argv [][]byte) []byte {
	switch len(argv) {
	case 0:
		return resp.AppendBulkString(dst, c.srv.Latency().String())
	case 1:
		d, err := ParseDistribution(string(argv[0]))
		if err == nil {
			err = c.srv.SetLatency(d)
		}
		if err != nil {
			return resp.AppendError(dst, "ERR "+err.Error())
		}
		return resp.AppendSimple(dst, "OK")
	}
	return wrongArity(dst, "concbench.latency")
}

// secret answers CONCBENCH.SECRET HEX: the secret the values are derived
// with from now on (see Config.Secret). There is no way to read it: a
// client that holds the auth token, as a strategy's connections do,
// still cannot learn it.
func (c *conn) secret(dst []byte, argv [][]byte) []byte {
	if len(argv) != 1 {
		return wrongArity(dst, "concbench.secret")
	}
	v, err := strconv.ParseUint(string(argv[0]), 16, 64)
	if err != nil {
		return resp.AppendError(dst, "ERR CONCBENCH.SECRET takes the secret as 1 to 16 hex digits")
	}
	c.srv.SetSecret(v)
	return resp.AppendSimple(dst, "OK")
}

// valueSize answers CONCBENCH.VALUESIZE [bytes]: get, or set the size of
// derived values from now on (see Config.ValueSize).
func (c *conn) valueSize(dst []byte, argv [][]byte) []byte {
	switch len(argv) {
	case 0:
		return resp.AppendInt(dst, int64(c.srv.derivation().size))
	case 1:
		n, err := strconv.Atoi(string(argv[0]))
		if err != nil {
			return resp.AppendError(dst, "ERR CONCBENCH.VALUESIZE takes a size in bytes")
		}
		if err := c.srv.SetValueSize(n); err != nil {
			return resp.AppendError(dst, "ERR "+err.Error())
		}
		return resp.AppendSimple(dst, "OK")
	}
	return wrongArity(dst, "concbench.valuesize")
}

func wrongArity(dst []byte, cmd string) []byte {
	return resp.AppendError(dst, "ERR wrong number of arguments for '"+cmd+"' command")
}

func unknownCommand(dst, name []byte) []byte {
	const maxShown = 64 // a garbage "command" need not be echoed whole
	if len(name) > maxShown {
		name = name[:maxShown]
	}
	return resp.AppendError(dst, "ERR unknown command '"+string(name)+"'")
}
