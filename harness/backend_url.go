package harness

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/concbench/concbench/workloads/resp"
)

// ErrBadBackendURL is wrapped by the errors of NewRedisBackend and
// NewRemoteBackends when the URL itself is wrong (a usage error), as
// opposed to a server that cannot be reached or refuses the password.
var ErrBadBackendURL = errors.New("bad backend URL")

// serverURL is a backend URL that lists one or more servers:
// SCHEME://[USERINFO@]HOST:PORT[,HOST:PORT...][PATH]. Every server gets
// the same credentials.
type serverURL struct {
	scheme string
	cred   resp.Credentials
	hosts  []string // host:port, as given
	path   string   // "" unless the URL has one
}

// parseServerURL splits raw, a URL of scheme with a list of servers. The
// password never appears in its errors, which wrap ErrBadBackendURL and
// say what form was wanted.
func parseServerURL(raw, scheme, want string) (serverURL, error) {
	bad := func(format string, args ...any) (serverURL, error) {
		return serverURL{}, fmt.Errorf("%w %s: %s (want %s)", ErrBadBackendURL, redactServerURL(raw), fmt.Sprintf(format, args...), want)
	}
	gotScheme, rest, ok := strings.Cut(raw, "://")
	if !ok || gotScheme != scheme {
		return bad("it does not start with %s://", scheme)
	}
	// The authority ends at the first '/', '?' or '#', as in url.Parse;
	// a password holding one of them must be percent-encoded.
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority, tail := rest[:end], rest[end:]
	userinfo, hostList, hasUser := "", authority, false
	if at := strings.LastIndex(authority, "@"); at >= 0 {
		userinfo, hostList, hasUser = authority[:at], authority[at+1:], true
	}
	// url.Parse decodes and checks the userinfo and the path, with a
	// placeholder for the list of hosts it does not read.
	placeholder := scheme + "://"
	if hasUser {
		placeholder += userinfo + "@"
	}
	u, err := url.Parse(placeholder + "placeholder" + tail)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return bad("%v", err)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return bad("options after the address")
	}
	su := serverURL{scheme: scheme, path: u.Path}
	if u.User != nil {
		su.cred.User = u.User.Username()
		su.cred.Password, _ = u.User.Password()
	}
	if hostList == "" {
		return bad("no host:port")
	}
	for _, h := range strings.Split(hostList, ",") {
		host, port, err := net.SplitHostPort(h)
		if err != nil || host == "" || port == "" {
			return bad("no host:port in %q", h)
		}
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
			return bad("port %q in %q", port, h)
		}
		if slices.Contains(su.hosts, h) {
			return bad("%s is listed twice", h)
		}
		su.hosts = append(su.hosts, h)
	}
	return su, nil
}

// redactServerURL hides the password of a backend URL, whether or not it
// parses: what a message may show of it.
func redactServerURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	at := strings.LastIndex(rest[:end], "@")
	if !ok || at < 0 {
		return strconv.Quote(raw)
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	switch {
	case hasPassword:
		user += ":xxxxx"
	case scheme == "concbench":
		user = "xxxxx" // concbench://TOKEN@...
	}
	return strconv.Quote(scheme + "://" + user + "@" + rest[at+1:])
}
