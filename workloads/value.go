package workloads

import (
	"math/rand/v2"
	"strconv"
)

// Value returns the value the backend holds for key: size bytes of lowercase
// letters derived from the key, so every reply can be verified without
// storing data. It is SecretValue(0, key, size): the value of a backend with
// no secret. The built-in backend and the loader for a real Redis use it.
func Value(key string, size int) []byte {
	return AppendValue(make([]byte, 0, size), key, size)
}

// AppendValue appends Value(key, size) to dst.
func AppendValue(dst []byte, key string, size int) []byte {
	return AppendSecretValue(dst, 0, key, size)
}

// SecretValue returns the value of key for a backend holding secret: like
// Value, but every byte also depends on the secret, so that only a party
// that knows the secret (the backend that serves the value, and the
// verifier that checks it) can produce it. A strategy that answered its
// fetches locally, without asking the backend, would then fail
// verification. Secret 0 means no secret: SecretValue(0, k, n) is exactly
// Value(k, n).
//
// The mixing is not cryptographic: it defeats a strategy that skips its
// I/O, not one that studies the replies to recover the secret.
func SecretValue(secret uint64, key string, size int) []byte {
	return AppendSecretValue(make([]byte, 0, size), secret, key, size)
}

// AppendSecretValue appends SecretValue(secret, key, size) to dst.
func AppendSecretValue(dst []byte, secret uint64, key string, size int) []byte {
	// splitmix64 seeded by the key's FNV-1a hash: fast, and every byte of
	// the value depends on every byte of the key. A secret moves the seed
	// by its own splitmix64 finalization, which maps 0 to 0 (no secret, the
	// plain value) and distinct secrets to distinct moves.
	state := FNV1aScalar(FNVOffset, []byte(key)) ^ finalize(secret)
	for n := 0; n < size; {
		state += 0x9e3779b97f4a7c15
		z := finalize(state)
		for b := 0; b < 8 && n < size; b++ {
			dst = append(dst, 'a'+byte((z>>(8*b))%26))
			n++
		}
	}
	return dst
}

// finalize is splitmix64's output function: a bijection of uint64 that
// maps 0 to 0.
func finalize(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// NewSecret returns a random, non-zero secret for SecretValue: one per run,
// held by the backend and the verifier, never handed to strategies.
func NewSecret() uint64 {
	for {
		if s := rand.Uint64(); s != 0 {
			return s
		}
	}
}

// renderBody is the static part of the page the render kernel builds: about
// 1 KiB, the size of a small templated HTML response.
var renderBody = func() []byte {
	b := []byte("<!doctype html><html><head><title>profile</title></head><body><table>")
	for i := 0; len(b) < 1000; i++ {
		b = append(b, "<tr><td>field "...)
		b = strconv.AppendInt(b, int64(i), 10)
		b = append(b, "</td><td>value</td></tr>"...)
	}
	return append(b, "</table></body></html>"...)
}()

// Render builds the response page of a web request from the task's state
// (request id, folded reply checksums, last reply) and returns its hash: the
// small CPU step that follows the lookups.
func Render(k Kernels, task int, sum, lastReply uint64) uint64 {
	var head [96]byte
	b := append(head[:0], "HTTP/1.1 200 OK\r\nX-Request: "...)
	b = strconv.AppendInt(b, int64(task), 10)
	b = append(b, "\r\nETag: "...)
	b = strconv.AppendUint(b, sum, 16)
	b = strconv.AppendUint(b, lastReply, 16)
	b = append(b, "\r\n\r\n"...)
	return k.FNV1a(k.FNV1a(FNVOffset, b), renderBody)
}

// BurstBlock returns a copy of the burst kernel's input, for strategies that
// run the kernel outside this package (the out-of-process ones).
func BurstBlock() []byte { return append([]byte(nil), burstBlock[:]...) }

// burstBlock is the input of the burst kernel: 4 KiB, in L1.
var burstBlock = func() (b [4096]byte) {
	copy(b[:], Value("burst", len(b)))
	return b
}()
