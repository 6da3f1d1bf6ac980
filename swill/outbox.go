package swill

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// outbox owns a connection's write queue and every write to its
// transport: frames are queued by the calls and the read path, and
// drained by one writer at a time (writing): a writer goroutine that runs
// only while something is queued, the goroutine of a call that is ending
// (for one batch, see push), or the reader of a [transport.Releaser],
// which writes the response of a call it ran and leaves the flush to the
// transport (writeHeld). It writes each frame as its own message and
// flushes when the queue is momentarily empty; it sends the close frame
// once drained.
//
// MaxQueueBytes bounds the queue by the memory its frames hold: past it,
// stream sends wait (waitSpace) or are refused (hasSpace). The frames of
// a call the client cancelled are dropped, queued or taken (dropFrames).
type outbox struct {
	writer func() // writeLoop bound once: "go o.writer()" allocates nothing, as "go o.writeLoop()" would
	tc     transport.Conn
	limit  int             // MaxQueueBytes
	active *atomic.Int32   // the connection's open calls: the writer yields while others run
	wg     *sync.WaitGroup // the connection's goroutines, which writers join
	logger *slog.Logger
	id     string // the connection's, for the log

	mu      sync.Mutex
	queue   []outFrame
	spare   []outFrame
	queued  int // the memory queue holds, as frameCost counts it
	writing bool
	closed  bool          // no frame is accepted any more
	space   chan struct{} // closed when the queue drops below the limit

	closePending bool // the writer sends a close frame once drained
	closeCode    transport.StatusCode
	closeReason  string
}

// close makes the outbox accept no more frames and has the writer send
// a close frame with code and reason once it has drained the queue, so
// that it stays the only goroutine writing. It reports false when the
// outbox was closed already.
func (o *outbox) close(code transport.StatusCode, reason string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	o.closed = true
	o.closeCode, o.closeReason, o.closePending = code, reason, true
	if !o.writing {
		o.writing = true
		o.wg.Add(1)
		go o.writer()
	}
	return true
}

// shut makes the outbox accept no more frames: the connection has ended.
func (o *outbox) shut() {
	o.mu.Lock()
	o.closed = true
	o.mu.Unlock()
}

// track counts one more goroutine in wg, unless the outbox is closed:
// the connection waits for its goroutines once it has shut the outbox,
// so every Add happens before that Wait.
func (o *outbox) track() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return false
	}
	o.wg.Add(1)
	return true
}

// queuedBytes returns what the queue holds, as frameCost counts it.
func (o *outbox) queuedBytes() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.queued
}

// push queues a frame. Without a running writer, it starts one; or, with
// mayWrite, it makes the caller the writer instead and returns true: the
// caller must then call write(true), outside its own locks. Only the
// goroutine of a call that is ending passes mayWrite: it may block on the
// network, and writing the batch itself spares starting a goroutine. The
// read path never does.
func (o *outbox) push(call *Call, b *wire.Buffer, mayWrite bool) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		wire.PutBuffer(b)
		return false
	}
	o.queue = append(o.queue, outFrame{b, call})
	o.queued += frameCost(b)
	if o.writing {
		return false
	}
	o.writing = true
	if mayWrite {
		return true
	}
	o.wg.Add(1)
	go o.writer()
	return false
}

// writeHeld writes the terminal frame of a call that c's reader ran
// inline, or an ERROR frame of the read path (call nil), from that
// reader's goroutine, and leaves the flush to the
// transport, which flushes before its reader waits for the network (see
// [transport.Releaser]): the responses to a burst of requests leave with
// one write. While another writer runs, the frame is queued for it.
func (o *outbox) writeHeld(c *Conn, call *Call, b *wire.Buffer) {
	o.mu.Lock()
	if o.closed {
		o.mu.Unlock()
		wire.PutBuffer(b)
		return
	}
	if o.writing {
		o.queue = append(o.queue, outFrame{b, call})
		o.queued += frameCost(b)
		o.mu.Unlock()
		return
	}
	// Nothing is queued: push starts a writer whenever it queues.
	o.writing = true
	o.mu.Unlock()
	var err error
	if f := (outFrame{b, call}); !f.dropped() {
		err = o.tc.WriteMessage(b.B)
	}
	wire.PutBuffer(b)
	if err == nil && call != nil && !c.holds(call) {
		// The watchdog released the reader meanwhile: the new one may
		// be waiting for the network already, so this goroutine, no
		// longer the reader, flushes.
		err = o.tc.Flush()
	}
	if err != nil {
		o.writeFailed(err)
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.queue) > 0 || o.closePending {
		// Queued, or closed, while this goroutine wrote.
		o.wg.Add(1)
		go o.writer()
		return
	}
	o.writing = false
}

// outFrame is one frame waiting to be written, and the call it belongs
// to (nil for an ERROR frame that answers no open call): the frames of a
// call the client cancelled are dropped instead of written.
type outFrame struct {
	b    *wire.Buffer
	call *Call
}

// dropped reports whether f belongs to a call the client cancelled.
func (f outFrame) dropped() bool { return f.call != nil && f.call.dropped.Load() }

// frameOverhead is what a queued frame costs besides its buffer's bytes:
// the wire.Buffer and its place in the queue.
const frameOverhead = 48

// frameCost is the memory a queued frame holds, which MaxQueueBytes
// bounds: its buffer's capacity, not only the frame's length, so that a
// stream of small items cannot hold many times the limit in half-empty
// pooled buffers.
func frameCost(b *wire.Buffer) int { return cap(b.B) + frameOverhead }

// dropFrames drops the frames of call still queued: the client cancelled
// it, and nothing more goes out for it. Frames the writer has taken are
// skipped as it comes to them (see outFrame.dropped), so a cancel takes
// effect on the wire within what the transport already holds.
func (o *outbox) dropFrames(call *Call) {
	call.dropped.Store(true)
	o.mu.Lock()
	keep := o.queue[:0]
	var drop []*wire.Buffer
	for _, f := range o.queue {
		if f.call == call {
			o.queued -= frameCost(f.b)
			drop = append(drop, f.b)
			continue
		}
		keep = append(keep, f)
	}
	clear(o.queue[len(keep):])
	o.queue = keep
	o.signalSpace()
	o.mu.Unlock()
	for _, b := range drop {
		wire.PutBuffer(b)
	}
}

// signalSpace wakes the senders waiting for room in the queue, if there
// is room now; the caller holds mu.
func (o *outbox) signalSpace() {
	if o.space != nil && o.queued < o.limit {
		close(o.space)
		o.space = nil
	}
}

// errorFrame encodes an ERROR frame.
func errorFrame(seq int64, e *rpc.Error) *wire.Buffer {
	b := wire.GetBuffer()
	enc := wire.GetEncoder()
	enc.Error(b, seq, e)
	wire.PutEncoder(enc)
	return b
}

// hasSpace reports whether the connection is open and its outgoing
// queue under its limit.
func (o *outbox) hasSpace() (open, space bool) {
	o.mu.Lock()
	open, space = !o.closed, o.queued < o.limit
	o.mu.Unlock()
	return open, space
}

// waitSpace blocks while the outgoing queue is over its limit.
func (o *outbox) waitSpace(ctx context.Context) error {
	for {
		o.mu.Lock()
		if o.closed || o.queued < o.limit {
			o.mu.Unlock()
			return nil
		}
		if o.space == nil {
			o.space = make(chan struct{})
		}
		ch := o.space
		o.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Batching: when the queue runs dry while other calls are open, their
// responses are likely a moment away (their handlers are running, or
// runnable, on this very thread). The writer then yields before flushing,
// up to maxYields times per flush and while the batch is smaller than
// yieldBelow bytes, so that several frames leave in one system call. A
// lone call is flushed at once: sequential calls pay no delay.
const (
	maxYields  = 2
	yieldBelow = 32 << 10
)

func (o *outbox) writeLoop() {
	defer o.wg.Done()
	o.write(false)
}

// write drains the queue, flushing whenever it runs dry, until it is
// empty and flushed; then it sends the close frame if one is pending. It
// runs on the writer goroutine, or, inline, on the goroutine of a call
// for one batch (see push): once that is flushed, it stops, handing what
// remains to a writer goroutine. Only one write runs at a time
// (o.writing).
func (o *outbox) write(inline bool) {
	held, yields := 0, 0 // bytes written since the last flush; yields for them
	for {
		o.mu.Lock()
		if len(o.queue) == 0 {
			if held > 0 {
				o.mu.Unlock()
				if yields < maxYields && held < yieldBelow && o.active.Load() > 1 {
					yields++
					runtime.Gosched()
					continue
				}
				if err := o.tc.Flush(); err != nil {
					o.writeFailed(err)
					return
				}
				if inline {
					o.mu.Lock()
					if len(o.queue) > 0 || o.closePending {
						o.wg.Add(1) // this goroutine is counted in wg: it may grow
						go o.writer()
						o.mu.Unlock()
						return
					}
					o.writing = false
					o.mu.Unlock()
					return
				}
				held, yields = 0, 0
				continue
			}
			o.writing = false
			pending := o.closePending
			o.closePending = false
			code, reason := o.closeCode, o.closeReason
			o.mu.Unlock()
			if pending {
				o.tc.Close(code, reason)
			}
			return
		}
		batch := o.queue
		o.queue = o.spare[:0]
		o.spare = nil
		o.mu.Unlock()

		n, cost := 0, 0
		var err error
		for i, f := range batch {
			if err == nil && !f.dropped() {
				err = o.tc.WriteMessage(f.b.B)
				n += len(f.b.B)
			}
			cost += frameCost(f.b)
			wire.PutBuffer(f.b)
			batch[i] = outFrame{}
		}
		held += n

		o.mu.Lock()
		o.queued -= cost
		o.signalSpace()
		if cap(o.queue) == 0 {
			o.queue = batch[:0] // nothing was queued meanwhile: keep one slice
		} else {
			o.spare = batch[:0]
		}
		o.mu.Unlock()
		if err != nil {
			o.writeFailed(err)
			return
		}
	}
}

// writeFailed ends a writer whose transport failed: the connection is
// closed and whatever is queued is dropped.
func (o *outbox) writeFailed(err error) {
	if !errors.Is(err, transport.ErrClosed) {
		o.logger.Warn("swill: write failed, closing the connection", "conn", o.id, "err", err)
	}
	o.mu.Lock()
	o.writing = false
	o.closed = true
	o.closePending = false
	o.mu.Unlock()
	o.dropQueue()
	o.tc.Close(transport.StatusGoingAway, "write failed")
}

func (o *outbox) dropQueue() {
	o.mu.Lock()
	batch := o.queue
	o.queue = nil
	o.queued = 0
	o.signalSpace()
	o.mu.Unlock()
	for _, f := range batch {
		wire.PutBuffer(f.b)
	}
}
