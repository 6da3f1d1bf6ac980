package session

import "time"

// NewMemoryStoreWithClock is NewMemoryStore reading the time from now,
// for tests that make sessions expire without waiting.
func NewMemoryStoreWithClock(now func() time.Time) *MemoryStore {
	s := NewMemoryStore()
	s.now = now
	return s
}
