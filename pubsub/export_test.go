package pubsub

import "time"

// NewMemoryEngineWithClock is NewMemoryEngine reading the time from now,
// for tests that make history and presence expire without waiting.
func NewMemoryEngineWithClock(now func() time.Time) *MemoryEngine {
	e := NewMemoryEngine()
	e.now = now
	return e
}
