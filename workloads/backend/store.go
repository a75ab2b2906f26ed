package backend

import (
	"sync"
	"sync/atomic"
)

// store holds the values clients SET; every other key has its derived value.
// Benchmarks never SET, so GET checks an atomic count before taking the lock.
type store struct {
	mu sync.RWMutex
	m  map[string][]byte
	n  atomic.Int64 // len(m)
}

func (s *store) get(key []byte) ([]byte, bool) {
	if s.n.Load() == 0 {
		return nil, false
	}
	s.mu.RLock()
	v, ok := s.m[string(key)]
	s.mu.RUnlock()
	return v, ok
}

func (s *store) set(key, value []byte) {
	v := append([]byte(nil), value...) // value aliases the read buffer
	s.mu.Lock()
	if s.m == nil {
		s.m = make(map[string][]byte)
	}
	s.m[string(key)] = v
	s.n.Store(int64(len(s.m)))
	s.mu.Unlock()
}

func (s *store) del(key []byte) bool {
	if s.n.Load() == 0 {
		return false
	}
	s.mu.Lock()
	_, ok := s.m[string(key)]
	delete(s.m, string(key))
	s.n.Store(int64(len(s.m)))
	s.mu.Unlock()
	return ok
}
