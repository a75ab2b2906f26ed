package serve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/concbench/concbench/workloads"
	"github.com/concbench/concbench/workloads/backend"
)

func startBackend(t *testing.T, cfg backend.Config) (*backend.Server, Env) {
	t.Helper()
	cfg.ValueSize = 32
	b, err := backend.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	env, err := Env{Backends: []string{b.Addr()}, Pages: 100, ValueSize: 32, FetchTimeout: 300 * time.Millisecond}.WithDefaults()
	if err != nil {
		t.Fatal(err)
	}
	return b, env
}

// GetMany answers every key exactly once, in order: with its value, or,
// when the backend resets, cuts a reply short or stalls, with an error
// wrapping ErrBackend, and the keys after a failure are still answered.
func TestBackendPoolGetManyUnderFaults(t *testing.T) {
	t.Parallel()
	_, env := startBackend(t, backend.Config{Seed: 3, Faults: backend.Faults{Reset: 0.05, PartialClose: 0.05, Stall: 0.01}})
	p := NewBackendPool(env, 1)
	defer p.Close()
	keys := make([]string, 40)
	for i := range keys {
		keys[i] = SessionKey(i)
	}
	var ok, failed int
	for range 20 {
		next := 0
		p.GetMany(context.Background(), keys, func(i int, v []byte, err error) {
			if i != next {
				t.Fatalf("key %d answered after %d", i, next-1)
			}
			next++
			if err != nil {
				if !errors.Is(err, ErrBackend) {
					t.Errorf("key %d: %v does not wrap ErrBackend", i, err)
				}
				failed++
				return
			}
			if !bytes.Equal(v, workloads.Value(keys[i], 32)) {
				t.Errorf("key %d: wrong value", i)
			}
			ok++
		})
		if next != len(keys) {
			t.Fatalf("%d of %d keys answered", next, len(keys))
		}
	}
	if ok == 0 || failed == 0 {
		t.Errorf("%d values, %d failures: want both", ok, failed)
	}
}

// Close cuts lookups in flight short: a server's shutdown does not wait
// out a stalled backend's fetch timeout.
func TestBackendPoolCloseFailsLookupsInFlight(t *testing.T) {
	t.Parallel()
	b, env := startBackend(t, backend.Config{})
	env.FetchTimeout = time.Minute
	p := NewBackendPool(env, 2)
	if _, err := p.Page(context.Background(), nil, 1, env.ValueSize); err != nil {
		t.Fatal(err)
	}
	if err := b.SetLatency(backend.Constant(time.Hour)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 2)
	go func() {
		_, err := p.Page(context.Background(), nil, 2, env.ValueSize)
		done <- err
	}()
	go func() {
		var err error
		p.GetMany(context.Background(), []string{"a", "b"}, func(_ int, _ []byte, e error) { err = errors.Join(err, e) })
		done <- err
	}()
	time.Sleep(50 * time.Millisecond) // let both reach the backend
	p.Close()
	for range 2 {
		select {
		case err := <-done:
			if err == nil {
				t.Error("a lookup in flight succeeded after Close")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a lookup in flight outlived Close")
		}
	}
	if _, err := p.Get(context.Background()); !errors.Is(err, ErrBackend) {
		t.Errorf("Get after Close: %v", err)
	}
}

// The pool dials no more than its bound; a request that finds none free
// waits at most the fetch timeout.
func TestBackendPoolBound(t *testing.T) {
	t.Parallel()
	b, env := startBackend(t, backend.Config{})
	p := NewBackendPool(env, 1)
	defer p.Close()
	c, err := p.Get(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Get(context.Background()); !errors.Is(err, ErrBackend) {
		t.Errorf("second Get with one connection, in use: %v", err)
	}
	p.Put(c, false)
	for range 5 {
		if _, err := p.Page(context.Background(), nil, 3, env.ValueSize); err != nil {
			t.Fatal(err)
		}
	}
	if n := b.Stats().Conns; n != 1 {
		t.Errorf("%d connections dialled, want 1", n)
	}
}

func TestAppendKeysAndPageLen(t *testing.T) {
	t.Parallel()
	for _, id := range []int{0, 7, 12345} {
		if got := string(AppendSessionKey([]byte("x"), id)); got != "x"+SessionKey(id) {
			t.Errorf("AppendSessionKey(%d) = %q", id, got)
		}
	}
	for _, h := range []uint64{0, 0xabc, 1<<64 - 1} {
		if got := string(AppendUserKey(nil, h)); got != UserKey(h) {
			t.Errorf("AppendUserKey(%#x) = %q, want %q", h, got, UserKey(h))
		}
		s := Sums(int(h%1000), h, ^h)
		if n, page := PageLen(int(h%1000), s), AppendPageSums(nil, int(h%1000), s); n != len(page) {
			t.Errorf("PageLen %d, page of %d bytes", n, len(page))
		}
	}
	if s := fmt.Sprint(SumsWith(workloads.Scalar, 4, 5, 6)); s != fmt.Sprint(Sums(4, 5, 6)) {
		t.Errorf("SumsWith(Scalar) %s, Sums %s", s, fmt.Sprint(Sums(4, 5, 6)))
	}
}
