package clientgo

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/transport"
)

// conn is one transport connection of a Client and the calls open on it.
// The transport's reader delivers frames to it (HandleMessage) and never
// blocks on a consumer; a writer goroutine, running only while frames are
// queued, writes them out.
type conn struct {
	cl     *Client
	tc     transport.Conn
	lastRx atomic.Int64 // unix nanoseconds of the last frame received

	// done is closed once the connection has ended and every call open on
	// it has been failed.
	done chan struct{}
	// closing is closed when the client closes the connection, to release
	// a reader waiting for a stream's consumer.
	closing   chan struct{}
	closeOnce sync.Once

	mu    sync.Mutex
	calls map[int64]*call
	dead  bool
	open  atomic.Int32 // len(calls), read by the writer without cn.mu

	// The write path: frames are queued and a writer goroutine, started
	// when the queue becomes non-empty, writes each as its own message and
	// flushes when the queue has stayed empty across a yield (see
	// writeLoop), so that a burst of frames shares one system call.
	wmu     sync.Mutex
	queue   []*wire.Buffer
	spare   []*wire.Buffer
	queued  int
	writing bool
	wclosed bool
	space   chan struct{} // closed when queued drops below the limit
	idle    chan struct{} // closed when the running writer stops; made by flush
	wg      sync.WaitGroup

	// Keepalive: a timer, no goroutine while it waits.
	kmu      sync.Mutex
	ktimer   *time.Timer
	kstopped bool
	kwg      sync.WaitGroup
}

func newConn(cl *Client, tc transport.Conn) *conn {
	cn := &conn{cl: cl, tc: tc, done: make(chan struct{}), closing: make(chan struct{}), calls: map[int64]*call{}}
	cn.lastRx.Store(time.Now().UnixNano())
	return cn
}

// close closes the transport with code and reason, first releasing the
// reader if it waits for a stream's consumer: the reader must return for
// the connection's end to be seen. Every close of the connection goes
// through it.
func (cn *conn) close(code transport.StatusCode, reason string) {
	cn.closeOnce.Do(func() { close(cn.closing) })
	cn.tc.Close(code, reason)
}

// register adds c to the open calls; it reports false when the connection
// has already ended.
func (cn *conn) register(c *call) bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.dead {
		return false
	}
	cn.calls[c.seq] = c
	cn.open.Store(int32(len(cn.calls)))
	return true
}

func (cn *conn) remove(c *call) {
	cn.mu.Lock()
	if cn.calls[c.seq] == c {
		delete(cn.calls, c.seq)
		cn.open.Store(int32(len(cn.calls)))
	}
	cn.mu.Unlock()
}

func (cn *conn) find(seq int64) *call {
	cn.mu.Lock()
	c := cn.calls[seq]
	cn.mu.Unlock()
	return c
}

// HandleMessage implements [transport.Handler]: it decodes one response
// frame and hands it to its call without blocking.
func (cn *conn) HandleMessage(typ transport.MessageType, data []byte) {
	cn.lastRx.Store(time.Now().UnixNano())
	if typ != transport.Binary {
		cn.cl.cfg.logger.Warn("clientgo: text frame received, closing the connection")
		cn.close(transport.StatusUnsupportedData, "swill/1 frames are binary MsgPack")
		return
	}
	var f wire.Response
	if err := wire.ParseResponse(data, &f); err != nil {
		var fe *wire.FrameError
		if errors.As(err, &fe) && fe.HasSeq {
			if c := cn.find(fe.Seq); c != nil {
				c.cancelOn(cn, fe.Seq, &protocolError{reason: err.Error()})
				return
			}
		}
		cn.cl.cfg.logger.Warn("clientgo: malformed frame dropped", "err", err)
		return
	}
	c := cn.find(f.Seq)
	if c == nil {
		// A late frame of a call that was cancelled or has failed.
		cn.cl.cfg.logger.Debug("clientgo: frame for no open call dropped", "seq", f.Seq, "type", f.Type)
		return
	}
	c.deliver(cn, &f)
}

// HandleClose implements [transport.Handler]: every open call fails, the
// writer and the keepalive stop, and the client is told.
func (cn *conn) HandleClose(err error) {
	cn.stopKeepalive()
	cn.mu.Lock()
	cn.dead = true
	calls := cn.calls
	cn.calls = nil
	cn.open.Store(0)
	cn.mu.Unlock()

	cn.wmu.Lock()
	cn.wclosed = true
	if cn.space != nil {
		close(cn.space)
		cn.space = nil
	}
	cn.wmu.Unlock()
	cn.wg.Wait()
	cn.wmu.Lock()
	for _, b := range cn.queue {
		wire.PutBuffer(b)
	}
	cn.queue, cn.queued = nil, 0
	cn.wmu.Unlock()

	var cause error
	if cn.cl.isClosed() {
		cause = ErrClosed
	} else {
		cause = lostError(err)
	}
	for seq, c := range calls {
		c.fail(cn, seq, cause)
	}
	close(cn.done)
	cn.cl.lost(cn, err)
}

// enqueue hands a frame to the writer, starting it when idle. Frames for
// an ended connection are dropped; its calls fail on their own.
func (cn *conn) enqueue(b *wire.Buffer) {
	cn.wmu.Lock()
	if cn.wclosed {
		cn.wmu.Unlock()
		wire.PutBuffer(b)
		return
	}
	cn.queue = append(cn.queue, b)
	cn.queued += len(b.B)
	if !cn.writing {
		cn.writing = true
		cn.wg.Add(1)
		go cn.writeLoop()
	}
	cn.wmu.Unlock()
}

// write hands a frame to the writer like enqueue, except that when no
// writer is running and no other call is open, the calling goroutine
// writes and flushes the frame itself: a call made on its own is spared a
// goroutine hand-off on its way out. Frames queued meanwhile by others go
// to a writer goroutine started then. With other calls open, the writer
// goroutine batches the frame with theirs (see writeLoop). Only the
// caller's goroutines may use it, holding no lock: the transport's reader
// must never wait for the network's writes.
func (cn *conn) write(b *wire.Buffer) {
	cn.wmu.Lock()
	if cn.wclosed || cn.writing || cn.open.Load() > 1 {
		cn.wmu.Unlock()
		cn.enqueue(b)
		return
	}
	cn.writing = true
	cn.wg.Add(1)
	cn.wmu.Unlock()

	err := cn.tc.WriteMessage(b.B)
	wire.PutBuffer(b)
	if err == nil {
		err = cn.tc.Flush()
	}
	if err != nil {
		cn.writeFailed(err)
		cn.wg.Done()
		return
	}
	cn.wmu.Lock()
	if len(cn.queue) > 0 && !cn.wclosed {
		// The writer goroutine takes over this writer's turn and count.
		go cn.writeLoop()
		cn.wmu.Unlock()
		return
	}
	cn.stopWriting()
	cn.wmu.Unlock()
	cn.wg.Done()
}

// waitSpace blocks while more than the send queue limit is waiting to be
// written.
func (cn *conn) waitSpace(ctx context.Context) error {
	limit := cn.cl.cfg.sendQueue
	for {
		cn.wmu.Lock()
		if cn.wclosed || cn.queued < limit {
			cn.wmu.Unlock()
			return nil
		}
		if cn.space == nil {
			cn.space = make(chan struct{})
		}
		ch := cn.space
		cn.wmu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// writeYields is how many times, at most, the writer yields its processor
// between two flushes, each time it finds the queue empty with frames
// written but not flushed.
const writeYields = 2

// flushBytes is how much the writer writes without flushing while frames
// keep coming, so that the transport's buffer stays small.
const flushBytes = 64 << 10

// writeLoop writes the queued frames until the queue stays empty. With
// more than one call open, a queue that has just run dry is usually about
// to receive the next call's frame (its caller was woken by the reply
// that the reader just delivered): the writer then yields its processor
// so that those callers run, and flushes only when the queue is still
// empty afterwards, or after writeYields yields. Every frame written thus
// shares its system call with as many others as possible. With one call
// open, nothing else is coming and the writer flushes at once, so a call
// made on its own waits for no one.
func (cn *conn) writeLoop() {
	defer cn.wg.Done()
	limit := cn.cl.cfg.sendQueue
	unflushed := 0 // bytes written since the last flush
	yields := 0
	for {
		cn.wmu.Lock()
		if cn.wclosed {
			cn.stopWriting()
			cn.wmu.Unlock()
			return
		}
		if len(cn.queue) == 0 {
			if unflushed == 0 {
				cn.stopWriting()
				cn.wmu.Unlock()
				return
			}
			cn.wmu.Unlock()
			if yields < writeYields && cn.open.Load() > 1 {
				yields++
				runtime.Gosched()
				continue
			}
			unflushed, yields = 0, 0
			if err := cn.tc.Flush(); err != nil {
				cn.writeFailed(err)
				return
			}
			continue
		}
		batch := cn.queue
		cn.queue = cn.spare[:0]
		cn.spare = nil
		cn.wmu.Unlock()

		n := 0
		var err error
		for i, b := range batch {
			if err == nil {
				err = cn.tc.WriteMessage(b.B)
			}
			n += len(b.B)
			wire.PutBuffer(b)
			batch[i] = nil
		}
		unflushed += n

		cn.wmu.Lock()
		cn.queued -= n
		if cn.space != nil && cn.queued < limit {
			close(cn.space)
			cn.space = nil
		}
		cn.spare = batch[:0]
		cn.wmu.Unlock()
		if err == nil && unflushed >= flushBytes {
			unflushed, yields = 0, 0
			err = cn.tc.Flush()
		}
		if err != nil {
			cn.writeFailed(err)
			return
		}
	}
}

// writeFailed stops the writer after a failed write and closes the
// connection; the reader then sees it end and fails the calls.
func (cn *conn) writeFailed(err error) {
	if !errors.Is(err, transport.ErrClosed) {
		cn.cl.cfg.logger.Warn("clientgo: write failed, closing the connection", "err", err)
	}
	cn.wmu.Lock()
	cn.stopWriting()
	cn.wclosed = true
	cn.wmu.Unlock()
	cn.close(transport.StatusGoingAway, "write failed")
}

// stopWriting marks the writer stopped and wakes a waiting flush; cn.wmu
// is held.
func (cn *conn) stopWriting() {
	cn.writing = false
	if cn.idle != nil {
		close(cn.idle)
		cn.idle = nil
	}
}

// flush waits, for at most d, until the frames queued so far have been
// written, so that closing right after a call was cancelled does not lose
// its CANCEL.
func (cn *conn) flush(d time.Duration) {
	cn.wmu.Lock()
	if !cn.writing {
		cn.wmu.Unlock()
		return
	}
	// Made on demand, so that the writer's hot path allocates nothing.
	if cn.idle == nil {
		cn.idle = make(chan struct{})
	}
	idle := cn.idle
	cn.wmu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

// startKeepalive arms the keepalive timer.
func (cn *conn) startKeepalive() {
	interval := cn.cl.cfg.pingInterval
	if interval <= 0 {
		return
	}
	cn.kmu.Lock()
	if !cn.kstopped {
		cn.ktimer = time.AfterFunc(interval, cn.keepalive)
	}
	cn.kmu.Unlock()
}

// keepalive runs when the timer fires: it pings a connection that has been
// silent for the interval, and closes it when the pong does not come.
func (cn *conn) keepalive() {
	cn.kmu.Lock()
	if cn.kstopped {
		cn.kmu.Unlock()
		return
	}
	cn.kwg.Add(1)
	cn.kmu.Unlock()
	defer cn.kwg.Done()

	interval := cn.cl.cfg.pingInterval
	next := interval
	if idle := time.Since(time.Unix(0, cn.lastRx.Load())); idle < interval {
		next = interval - idle
	} else {
		ctx, cancel := context.WithTimeout(context.Background(), cn.cl.cfg.pingTimeout)
		err := cn.tc.Ping(ctx)
		cancel()
		if err != nil {
			cn.cl.cfg.logger.Warn("clientgo: keepalive failed, closing the connection", "err", err)
			cn.close(transport.StatusGoingAway, "keepalive timeout")
			return
		}
	}
	cn.kmu.Lock()
	if !cn.kstopped {
		cn.ktimer.Reset(next)
	}
	cn.kmu.Unlock()
}

func (cn *conn) stopKeepalive() {
	cn.kmu.Lock()
	cn.kstopped = true
	if cn.ktimer != nil {
		cn.ktimer.Stop()
	}
	cn.kmu.Unlock()
	cn.kwg.Wait()
}
