package backend

import (
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
// command name, in any case.
func (c *conn) execute(dst []byte, args [][]byte) ([]byte, commandClass) {
	var upper [maxCommandName]byte
	name := args[0]
	if len(name) > len(upper) {
		return unknownCommand(dst, name), classTimed
	}
	for i, b := range name {
		if 'a' <= b && b <= 'z' {
			b -= 'a' - 'A'
		}
		upper[i] = b
	}
	argv := args[1:]
	s := c.srv
	switch string(upper[:len(name)]) { // the compiler does not allocate for this conversion
	case "GET":
		if len(argv) != 1 {
			return wrongArity(dst, "get"), classTimed
		}
		return c.appendValue(dst, argv[0]), classData
	case "MGET":
		if len(argv) == 0 {
			return wrongArity(dst, "mget"), classTimed
		}
		dst = resp.AppendArrayHeader(dst, len(argv))
		for _, k := range argv {
			dst = c.appendValue(dst, k)
		}
		return dst, classData
	case "SET":
		// Options (EX, NX, ...) are accepted and ignored: nothing expires here.
		if len(argv) < 2 {
			return wrongArity(dst, "set"), classTimed
		}
		s.store.set(argv[0], argv[1])
		return resp.AppendSimple(dst, "OK"), classData
	case "DEL":
		if len(argv) == 0 {
			return wrongArity(dst, "del"), classTimed
		}
		n := int64(0)
		for _, k := range argv {
			if s.store.del(k) {
				n++
			}
		}
		return resp.AppendInt(dst, n), classData
	case "PING":
		switch len(argv) {
		case 0:
			return resp.AppendSimple(dst, "PONG"), classTimed
		case 1:
			return resp.AppendBulk(dst, argv[0]), classTimed
		}
		return wrongArity(dst, "ping"), classTimed
	case "ECHO":
		if len(argv) != 1 {
			return wrongArity(dst, "echo"), classTimed
		}
		return resp.AppendBulk(dst, argv[0]), classTimed
	case "QUIT":
		return resp.AppendSimple(dst, "OK"), classQuit
	case "COMMAND":
		// Clients ask for command metadata (redis-cli: COMMAND DOCS) and
		// cope with having none.
		if len(argv) > 0 && strings.EqualFold(string(argv[0]), "COUNT") {
			return resp.AppendInt(dst, 0), classTimed
		}
		return resp.AppendArrayHeader(dst, 0), classTimed
	case "HELLO":
		return c.hello(dst, argv), classTimed
	case "CLIENT":
		if len(argv) > 0 && strings.EqualFold(string(argv[0]), "ID") {
			return resp.AppendInt(dst, int64(c.id)), classTimed
		}
		return resp.AppendSimple(dst, "OK"), classTimed // SETNAME, SETINFO, ...: accepted
	case "SELECT":
		if len(argv) != 1 || string(argv[0]) != "0" {
			return resp.AppendError(dst, "ERR DB index is out of range"), classTimed
		}
		return resp.AppendSimple(dst, "OK"), classTimed
	case "DBSIZE":
		return resp.AppendInt(dst, s.store.n.Load()), classTimed
	case "CONFIG":
		return c.config(dst, argv), classTimed
	case "INFO", "CONCBENCH.STATS":
		return resp.AppendBulkString(dst, s.Stats().String()), classAdmin
	case "CONCBENCH.LATENCY":
		return c.latency(dst, argv), classAdmin
	}
	return unknownCommand(dst, name), classTimed
}

// appendValue appends the bulk reply of GET key.
func (c *conn) appendValue(dst, key []byte) []byte {
	if v, ok := c.srv.store.get(key); ok {
		return resp.AppendBulk(dst, v)
	}
	size := c.srv.cfg.ValueSize
	dst = resp.AppendBulkHeader(dst, size)
	// AppendValue only reads the key during the call, so viewing the
	// request's bytes as a string is safe and saves a copy per GET.
	dst = workloads.AppendValue(dst, unsafe.String(unsafe.SliceData(key), len(key)), size)
	return append(dst, '\r', '\n')
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
		{"concbench.value-size", strconv.Itoa(c.srv.cfg.ValueSize)},
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
