package backend

import (
	"sync"
	"sync/atomic"
)

// store holds the values clients SET; every other key has its derived value.
// Benchmarks never SET, so GET checks an atomic count before taking the lock.
// The bytes of keys and values held are bounded (Config.MaxStoredBytes).
type store struct {
	mu    sync.RWMutex
	m     map[string][]byte
	n     atomic.Int64 // len(m)
	bytes atomic.Int64 // the keys' and values' bytes
	limit int64
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

// size returns the size of key's stored value, if it has one.
func (s *store) size(key []byte) (int, bool) {
	v, ok := s.get(key)
	return len(v), ok
}

// set stores value under key and reports whether it fit under the limit;
// when it does not, nothing changes.
func (s *store) set(key, value []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, had := s.m[string(key)]
	grow := int64(len(value) - len(old))
	if !had {
		grow += int64(len(key))
	}
	if grow > 0 && s.bytes.Load()+grow > s.limit {
		return false
	}
	if s.m == nil {
		s.m = make(map[string][]byte)
	}
	s.m[string(key)] = append([]byte(nil), value...) // value aliases the read buffer
	s.n.Store(int64(len(s.m)))
	s.bytes.Add(grow)
	return true
}

func (s *store) del(key []byte) bool {
	if s.n.Load() == 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.m[string(key)]
	if !ok {
		return false
	}
	delete(s.m, string(key))
	s.n.Store(int64(len(s.m)))
	s.bytes.Add(-int64(len(key) + len(old)))
	if len(s.m) == 0 {
		s.m = nil // a map never shrinks: let the emptied one go
	}
	return true
}
