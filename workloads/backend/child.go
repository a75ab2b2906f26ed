package backend

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// A parent process that runs the backend as a child (the harness does, one
// child per instance: `concbench backend --control-stdin`) passes the
// settings nobody else may read on the child's stdin, not on its command
// line, which every user of the machine can read (ps, /proc/PID/cmdline):
// lines "NAME VALUE", ended by a blank line. The child then keeps reading
// stdin and exits when it closes, which happens when the parent exits, even
// when it is killed: the fallback to Linux's parent-death signal.
//
//	secret 9f86d081884c7d65
//	auth s3cret
//	(blank line)

// WriteChildConfig writes cfg's secret and auth settings as a child's
// control lines, ended by the blank line.
func WriteChildConfig(w io.Writer, cfg Config) error {
	if strings.ContainsAny(cfg.Auth, "\r\n") {
		return fmt.Errorf("backend: auth token holds a line break")
	}
	var b strings.Builder
	if cfg.Secret != 0 {
		fmt.Fprintf(&b, "secret %016x\n", cfg.Secret)
	}
	if cfg.Auth != "" {
		fmt.Fprintf(&b, "auth %s\n", cfg.Auth)
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("backend: write child config: %w", err)
	}
	return nil
}

// ReadChildConfig reads control lines up to the blank line into cfg. It
// leaves the rest of r unread.
func ReadChildConfig(r *bufio.Reader, cfg *Config) error {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return fmt.Errorf("backend: control lines on stdin: %w (want lines \"NAME VALUE\" ended by a blank line)", err)
		}
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return nil
		}
		name, value, _ := strings.Cut(line, " ")
		switch name {
		case "secret":
			s, err := strconv.ParseUint(value, 16, 64)
			if err != nil {
				return fmt.Errorf("backend: control line secret: want 16 hex digits: %w", err)
			}
			cfg.Secret = s
		case "auth":
			cfg.Auth = value
		default:
			return fmt.Errorf("backend: unknown control line %q (known: secret, auth)", name)
		}
	}
}
