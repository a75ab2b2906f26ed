package serve

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/concbench/concbench/workloads"
)

// ContentType is the Content-Type of a page.
const ContentType = "text/html; charset=utf-8"

// PathPrefix is what every page's path starts with: "/page/{id}".
const PathPrefix = "/page/"

// SessionKey is the backend key of page id's first lookup: "session:{id}",
// the key of the webrequest workload's task id.
func SessionKey(id int) string { return "session:" + strconv.Itoa(id) }

// AppendSessionKey appends SessionKey(id) to dst: for servers that write
// their RESP requests themselves and allocate nothing per lookup.
func AppendSessionKey(dst []byte, id int) []byte {
	return strconv.AppendInt(append(dst, "session:"...), int64(id), 10)
}

// ReplyHash is the hash of a backend reply that the page folds in and that
// names the dependent key: 64-bit FNV-1a from the standard offset basis.
func ReplyHash(reply []byte) uint64 { return workloads.FNV1aScalar(workloads.FNVOffset, reply) }

// UserKey is the backend key of the second lookup, named by the session
// reply's hash: "user:" and its lowercase hex ([workloads.DependentKey]).
func UserKey(sessionHash uint64) string { return workloads.DependentKey(sessionHash) }

// AppendUserKey appends UserKey(sessionHash) to dst.
func AppendUserKey(dst []byte, sessionHash uint64) []byte {
	return strconv.AppendUint(append(dst, "user:"...), sessionHash, 16)
}

// PageSums are the checksums a page carries, each a step of the webrequest
// task's digest.
type PageSums struct {
	Session uint64 // ReplyHash of the session reply
	User    uint64 // ReplyHash of the user reply
	Render  uint64 // workloads.Render of the page head
	Digest  uint64 // the webrequest task's result Sum: mix(mix(mix(0, Session), User), Render)
}

// Sums computes page id's checksums from its two reply hashes, as the
// webrequest task does: fold the session hash, fold the user hash, render
// (with the sum so far and the user hash), fold the render's hash.
func Sums(id int, sessionHash, userHash uint64) PageSums {
	return SumsWith(workloads.Scalar, id, sessionHash, userHash)
}

// SumsWith is Sums with the render's hashing done by k: a server that
// renders many pages at once hashes them together in vector lanes (the
// simd strategy's kernels), with the same result.
func SumsWith(k workloads.Kernels, id int, sessionHash, userHash uint64) PageSums {
	sum := mix(mix(0, sessionHash), userHash)
	render := workloads.Render(k, id, sum, userHash)
	return PageSums{Session: sessionHash, User: userHash, Render: render, Digest: mix(sum, render)}
}

// mix is workloads' fold (unexported there; PROTOCOL.md of the external
// strategies states it): h = (h ^ v) * prime; h ^ h>>29.
func mix(h, v uint64) uint64 {
	h ^= v
	h *= workloads.FNVPrime
	return h ^ h>>29
}

// AppendPage appends the body of page id to dst: its first line names the
// page and its checksums, then comes the rendered table. See the package
// documentation for the exact bytes.
func AppendPage(dst []byte, id int, sessionHash, userHash uint64) []byte {
	return AppendPageSums(dst, id, Sums(id, sessionHash, userHash))
}

// AppendPageSums appends the body of page id whose checksums s are
// already computed ([SumsWith]).
func AppendPageSums(dst []byte, id int, s PageSums) []byte {
	return append(appendPageLine(dst, id, s), pageTable...)
}

// PageLen returns the length of the body AppendPageSums(nil, id, s)
// appends, so a server can write a response's head before its body.
func PageLen(id int, s PageSums) int {
	var line [160]byte
	return len(appendPageLine(line[:0], id, s)) + len(pageTable)
}

// appendPageLine appends the first line of a page.
func appendPageLine(dst []byte, id int, s PageSums) []byte {
	dst = append(dst, "<!-- page "...)
	dst = strconv.AppendInt(dst, int64(id), 10)
	dst = append(dst, " session "...)
	dst = strconv.AppendUint(dst, s.Session, 16)
	dst = append(dst, " user "...)
	dst = strconv.AppendUint(dst, s.User, 16)
	dst = append(dst, " render "...)
	dst = strconv.AppendUint(dst, s.Render, 16)
	dst = append(dst, " digest "...)
	dst = strconv.AppendUint(dst, s.Digest, 16)
	return append(dst, " -->\n"...)
}

// pageTable is the rendered part of every page: the same bytes the render
// kernel hashes after the page head (workloads.renderBody, RENDER_BODY in
// strategies/external/python/concbench_ext.py): about 1 KiB, a small
// templated HTML response. A test checks it against workloads.Render.
var pageTable = func() []byte {
	b := []byte("<!doctype html><html><head><title>profile</title></head><body><table>")
	for i := 0; len(b) < 1000; i++ {
		b = append(b, "<tr><td>field "...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, "</td><td>value</td></tr>"...)
	}
	return append(b, "</table></body></html>"...)
}()

// Fetcher is one backend connection, used by one goroutine at a time:
// *resp.Client satisfies it. The reply may alias a buffer the fetcher
// reuses: it is read before the next Get.
type Fetcher interface {
	Get(key string) ([]byte, error)
}

// ErrBackend is wrapped by FetchPage's errors: a lookup failed (an error
// reply, a timeout, a broken connection, a reply of the wrong size). A
// server answers 502.
var ErrBackend = errors.New("serve: backend lookup failed")

// errWrongSize is a backend reply whose length is not Env.ValueSize: a
// failed lookup on a connection that is still in step.
var errWrongSize = errors.New("reply of the wrong size")

// FetchPage is the page handler for servers that block a goroutine per
// request: it looks up page id's session, then the user record it names,
// through f, checks both replies are valueSize bytes, and appends the page
// to dst. On error dst is returned unchanged.
func FetchPage(dst []byte, f Fetcher, id, valueSize int) ([]byte, error) {
	key := SessionKey(id)
	session, err := f.Get(key)
	if err == nil && len(session) != valueSize {
		err = fmt.Errorf("%w: %d bytes, want %d", errWrongSize, len(session), valueSize)
	}
	if err != nil {
		return dst, fmt.Errorf("%w: GET %s: %w", ErrBackend, key, err)
	}
	sh := ReplyHash(session) // before the next Get: session may alias its buffer
	key = UserKey(sh)
	user, err := f.Get(key)
	if err == nil && len(user) != valueSize {
		err = fmt.Errorf("%w: %d bytes, want %d", errWrongSize, len(user), valueSize)
	}
	if err != nil {
		return dst, fmt.Errorf("%w: GET %s: %w", ErrBackend, key, err)
	}
	return AppendPage(dst, id, sh, ReplyHash(user)), nil
}

// ParseID parses a page id as the contract spells it: canonical decimal
// ("0", or a nonzero digit and digits: no sign, no leading zero) below
// pages.
func ParseID(s []byte, pages int) (int, bool) {
	if len(s) == 0 || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, n < pages
}

// ParseTarget routes a request-target: it returns the page id of
// "/page/{id}" (a query string is ignored) and true, or false for any other
// path, which gets 404.
func ParseTarget(target []byte, pages int) (int, bool) {
	for i, c := range target {
		if c == '?' {
			target = target[:i]
			break
		}
	}
	if len(target) <= len(PathPrefix) || string(target[:len(PathPrefix)]) != PathPrefix {
		return 0, false
	}
	return ParseID(target[len(PathPrefix):], pages)
}

// AppendPath appends page id's path to dst.
func AppendPath(dst []byte, id int) []byte {
	return strconv.AppendInt(append(dst, PathPrefix...), int64(id), 10)
}

// NotFoundBody is the body of a 404; BadGatewayBody of a 502. Their bytes
// are not part of the contract (only the statuses are).
var (
	NotFoundBody   = []byte("no such page\n")
	BadGatewayBody = []byte("backend lookup failed\n")
)
