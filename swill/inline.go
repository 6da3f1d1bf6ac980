package swill

import (
	"sync"
	"time"

	"github.com/swillorg/swill-go/internal/wire"
)

// Inline calls. On a transport that can hand its reading over to a new
// goroutine ([transport.Releaser]), a unary call runs on the goroutine
// that read its request, inside HandleMessage, instead of on a worker:
// that spares waking a worker, and the worker waking the writer, on the
// path of every call. Its response is written there too, and flushed by
// the transport once it has delivered every frame it holds (flush on
// idle), so that the responses to a burst of requests leave with one
// write.
//
// A handler that runs for longer than the server's inline budget would
// hold up the connection's other calls, and the CANCEL of its own: the
// server's watchdog then releases the reader, which goes on reading on a
// new goroutine while the handler finishes where it is. Other calls and
// frames of the connection wait at most about one and a half budgets.

// defaultInlineBudget is how long an inline call may hold its
// connection's reader before the watchdog releases it.
const defaultInlineBudget = time.Millisecond

// idleTicks is how many ticks the watchdog keeps ticking with nothing to
// watch before it ends; the next inline call starts it again.
const idleTicks = 200

// watchdog releases the readers of inline calls that run for too long.
// Its goroutine ticks every half budget while calls run inline, and ends
// after idleTicks ticks without one, so that an idle server holds none.
type watchdog struct {
	budget time.Duration

	mu      sync.Mutex
	conns   []*Conn // connections that may have a call running inline
	running bool    // the goroutine runs
	stopped bool    // the server is shutting down
	done    chan struct{}
}

// watch makes sure the watchdog looks at c, whose reader has just set
// c.inline. Connections leave the list when the watchdog finds them with
// no call inline; watched tells whether c is on it. The reader stores
// c.inline before loading watched, and the watchdog clears watched before
// loading c.inline: either the reader sees watched false and adds c
// again, or the watchdog sees the call and keeps c.
func (s *Server) watch(c *Conn) {
	if c.watched.Load() {
		return
	}
	w := &s.watchdog
	w.mu.Lock()
	defer w.mu.Unlock()
	if c.watched.Load() || w.stopped {
		return
	}
	c.watched.Store(true)
	w.conns = append(w.conns, c)
	if !w.running {
		w.running = true
		if w.done == nil {
			w.done = make(chan struct{})
		}
		s.wg.Add(1)
		go s.watchLoop(w.done)
	}
}

func (s *Server) watchLoop(done <-chan struct{}) {
	defer s.wg.Done()
	w := &s.watchdog
	tick := time.NewTicker(w.budget / 2)
	defer tick.Stop()
	for quiet := 0; ; {
		select {
		case <-tick.C:
		case <-done:
			return
		}
		if w.scan(time.Now().UnixNano()) {
			quiet = 0
			continue
		}
		if quiet++; quiet < idleTicks {
			continue
		}
		w.mu.Lock()
		if len(w.conns) == 0 {
			w.running = false
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
	}
}

// scan releases the readers of the inline calls started before now minus
// the budget, drops the connections without one, and reports whether any
// is left.
func (w *watchdog) scan(now int64) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	keep := w.conns[:0]
	for _, c := range w.conns {
		c.watched.Store(false)
		call := c.inline.Load()
		if call == nil {
			continue
		}
		c.watched.Store(true)
		keep = append(keep, c)
		if now-call.since >= int64(w.budget) {
			c.release(call)
		}
	}
	clear(w.conns[len(keep):])
	w.conns = keep
	return len(keep) > 0
}

// stop ends the watchdog; calls still running inline are no longer
// watched, which only matters to the connections the server is closing.
func (w *watchdog) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.stopped && w.done != nil {
		close(w.done)
	}
	w.stopped = true
	w.conns = nil
}

// runInline runs call on the reader's goroutine; see the top of this
// file.
func (c *Conn) runInline(call *Call) {
	call.inline = true
	call.since = c.act.lastRx.Load()
	c.inline.Store(call)
	c.srv.watch(c)
	c.run(call)
	c.inlineMu.Lock()
	if !call.released {
		c.inline.Store(nil)
	}
	c.inlineMu.Unlock()
}

// release hands the reading of c to a new goroutine, if call is still
// running inline.
func (c *Conn) release(call *Call) {
	c.inlineMu.Lock()
	defer c.inlineMu.Unlock()
	if c.inline.Load() != call || call.released {
		return
	}
	call.released = true
	c.inline.Store(nil)
	c.rel.ReleaseReader()
}

// holds reports whether call runs inline and has not been released: its
// goroutine is the connection's reader.
func (c *Conn) holds(call *Call) bool {
	if !call.inline {
		return false
	}
	c.inlineMu.Lock()
	defer c.inlineMu.Unlock()
	return !call.released
}

// pushEnd queues the terminal frame of call, like push; from the
// goroutine of an inline call, that is the reader's, it writes the frame
// and leaves the flush to the transport (see outbox.writeHeld).
func (c *Conn) pushEnd(call *Call, b *wire.Buffer, mayWrite bool) bool {
	if mayWrite && c.holds(call) {
		c.out.writeHeld(c, call, b)
		return false
	}
	return c.out.push(call, b, mayWrite)
}
