package swill

import "time"

// WithWorkerIdleTime sets how long a worker goroutine waits for a call
// before it ends.
func WithWorkerIdleTime(d time.Duration) Option {
	return optionFunc(func(s *Server) { s.workers.idleTime = d })
}

// WatchdogRunning reports whether the server's watchdog goroutine runs.
func WatchdogRunning(s *Server) bool {
	s.watchdog.mu.Lock()
	defer s.watchdog.mu.Unlock()
	return s.watchdog.running
}

// QueuedBytes returns the bytes of frames waiting to be written to c.
func QueuedBytes(c *Conn) int {
	return c.out.queuedBytes()
}
