package progress

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// chunkSize bounds one write to the network, so that a large message
// shows progress (a returned write) as it goes out, also where the
// acknowledged bytes cannot be read.
const chunkSize = 64 << 10

// ticksPerTimeout is how many times per timeout a blocked write is
// looked at: a peer that accepts nothing is cut between one timeout and
// one timeout and a quarter after its last progress.
const ticksPerTimeout = 4

// Writer writes to a net.Conn, cutting the connection when the peer has
// accepted nothing for the timeout. Writes must not run concurrently
// with each other (the transports serialize them); everything else about
// the connection may go on meanwhile.
//
// A write sets no deadline of its own: a timer, armed while writes go on
// and stopped once the connection is quiet, looks at the blocked write
// every quarter timeout, and sets a write deadline in the past when it
// has seen no progress for a whole timeout. Writing costs a few atomic
// operations, and an idle connection no timer.
type Writer struct {
	nc      net.Conn
	timeout time.Duration
	acked   func() (uint64, bool) // the bytes the peer acknowledged, where known

	busy   atomic.Bool   // a Write is under way
	writes atomic.Uint64 // network writes that returned: progress
	armed  atomic.Bool   // the timer is set, or its callback runs
	cut    atomic.Bool   // the timer set the deadline that ends the connection

	mu         sync.Mutex // the timer and the watch's state
	timer      *time.Timer
	watching   bool      // the current write episode has been looked at
	lastWrites uint64    // progress seen at the last look
	lastAcked  uint64    //
	since      time.Time // when progress was last seen
}

// Init readies w to write to nc, cutting it after timeout without
// progress. It clears any write deadline nc had (an HTTP server's, set
// before the connection was hijacked), and, on Linux, bounds the bytes
// nc's socket holds unsent (TCP_NOTSENT_LOWAT), so that what waits for a
// slow peer waits in the application's queue, which bounds it and can
// drop what a cancel makes useless. w must not be copied afterwards.
func (w *Writer) Init(nc net.Conn, timeout time.Duration) {
	w.nc, w.timeout = nc, timeout
	w.acked = ackedProbe(nc)
	bound(nc)
	nc.SetWriteDeadline(time.Time{})
}

// Timeout returns how long the peer may accept nothing.
func (w *Writer) Timeout() time.Duration { return w.timeout }

// Write writes p, in chunks, and returns when the peer's socket has taken
// all of it, or on the first error. When the peer accepted nothing for
// the timeout the error wraps [os.ErrDeadlineExceeded] and says so; the
// connection is then unusable.
func (w *Writer) Write(p []byte) (int, error) {
	w.busy.Store(true)
	if !w.armed.Load() && w.armed.CompareAndSwap(false, true) {
		w.arm()
	}
	n := 0
	for n < len(p) {
		k, err := w.nc.Write(p[n:min(len(p), n+chunkSize)])
		n += k
		w.writes.Add(1)
		if err != nil {
			w.busy.Store(false)
			return n, w.explain(err)
		}
	}
	w.busy.Store(false)
	return n, nil
}

// Stalled is the error of a write cut for lack of progress.
type Stalled struct {
	Timeout time.Duration
	Err     error // the network error the write returned
}

// Error implements the error interface.
func (e *Stalled) Error() string {
	return fmt.Sprintf("transport: write: the peer accepted nothing for %v: %v", e.Timeout, e.Err)
}

// Unwrap returns the network error.
func (e *Stalled) Unwrap() error { return e.Err }

func (w *Writer) explain(err error) error {
	if w.cut.Load() && errors.Is(err, os.ErrDeadlineExceeded) {
		return &Stalled{Timeout: w.timeout, Err: err}
	}
	return err
}

func (w *Writer) tick() time.Duration { return max(w.timeout/ticksPerTimeout, time.Millisecond) }

// arm starts the timer; the caller has set armed.
func (w *Writer) arm() {
	w.mu.Lock()
	if w.timer == nil {
		w.timer = time.AfterFunc(w.tick(), w.watch)
	} else {
		w.timer.Reset(w.tick())
	}
	w.mu.Unlock()
}

// watch is the timer's: it looks at the write under way, if any, and
// cuts the connection when it has made no progress for the timeout.
func (w *Writer) watch() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.busy.Load() {
		// Quiet: the timer stops, and the next write arms it again. A
		// write that starts meanwhile finds armed set and leaves the
		// timer to this callback, or finds it clear and arms it itself.
		w.watching = false
		w.armed.Store(false)
		if !w.busy.Load() || !w.armed.CompareAndSwap(false, true) {
			return
		}
	}
	now := time.Now()
	writes := w.writes.Load()
	var acked uint64
	if w.acked != nil {
		acked, _ = w.acked()
	}
	switch {
	case !w.watching || writes != w.lastWrites || acked != w.lastAcked:
		// The first look at this write, or progress since the last:
		// the timeout counts from now.
		w.watching = true
		w.lastWrites, w.lastAcked, w.since = writes, acked, now
	case now.Sub(w.since) >= w.timeout:
		w.cut.Store(true)
		w.nc.SetWriteDeadline(time.Unix(1, 0)) // the blocked write fails now
		return                                 // armed stays set: no later write needs the timer
	}
	w.timer.Reset(w.tick())
}
