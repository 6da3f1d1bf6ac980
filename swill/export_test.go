package swill

import "time"

// WithWorkerIdleTime sets how long a worker goroutine waits for a call
// before it ends.
func WithWorkerIdleTime(d time.Duration) Option {
	return optionFunc(func(s *Server) { s.workers.idleTime = d })
}
