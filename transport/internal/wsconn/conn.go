package wsconn

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/internal/progress"
)

// Defaults shared by the transports built on this package.
const (
	DefaultWriteTimeout = 10 * time.Second
	DefaultCloseTimeout = 5 * time.Second
)

// writeBufferSize is the size of the pooled buffer that holds a batch of
// frames until Flush. A larger message goes out in several writes.
const writeBufferSize = 16 << 10

// Options configures a [Conn].
type Options struct {
	// Client marks the client end: it masks what it writes and expects
	// unmasked frames.
	Client bool
	// Subprotocol is the negotiated subprotocol.
	Subprotocol string
	// ReadLimit is the largest message accepted, in bytes.
	ReadLimit int64
	// WriteTimeout is how long the peer may accept nothing while a write
	// waits before the connection is aborted (see package progress): a
	// peer that reads slowly is not cut.
	WriteTimeout time.Duration
	// CloseTimeout bounds the wait for the peer's close frame.
	CloseTimeout time.Duration
	// Abort ends the connection at once, without a close handshake, so
	// that the transport's reader sees an error and calls [Conn.Finish].
	// It is called when the close handshake times out and when a write
	// fails, possibly with locks held: it must not block. Nil means
	// closing the network connection.
	Abort func()
	// AsyncPong answers pings from a goroutine that runs while pongs are
	// pending, so that a reader shared by many connections never waits on
	// one peer's network buffer. Up to maxPendingPongs wait; pings beyond
	// go unanswered, which RFC 6455 allows.
	AsyncPong bool
	// Shared marks a server connection whose reader serves other
	// connections too: WriteMessage never waits, not even for the write
	// lock; it keeps its frames in memory until Flush or [Conn.FlushIdle],
	// which writes them without waiting for the peer. Not for clients.
	Shared bool
	// TryWrite, required with Shared, makes one attempt to write b to
	// the network without blocking, with the write lock held, and returns
	// how much the socket took (a full socket is not an error): the
	// reader's flush on idle and its close frame go through it.
	TryWrite func(b []byte) (int, error)
}

// Action tells a reader what to do with the payload of a frame whose
// header it has passed to [Conn.Header].
type Action int

// Actions.
const (
	// Read the payload and pass the frame to [Conn.Frame].
	Read Action = iota
	// Skip discards the payload.
	Skip
)

// Conn is the transport-independent part of a WebSocket connection. It
// implements every method of [transport.Conn] but Start. The transport's
// reader passes each frame header to [Conn.Header] and each frame to
// [Conn.Frame], and calls [Conn.Finish] once when reading ends.
type Conn struct {
	nc    net.Conn
	opts  Options
	abort func()

	// The write side. wmu serializes frames from the application's writer,
	// pongs from the reader, pings and the close frame.
	wmu       sync.Mutex
	bw        *bufio.Writer // held only while a batch is open
	dw        progress.Writer
	werr      error
	ferr      atomic.Pointer[error] // werr, for WriteMessage with Options.Shared, which does not take wmu
	closeSent atomic.Bool           // set under wmu; nothing is written after it
	// closeBegun is set when sendClose starts, before closeSent (on a
	// goroutine of its own, see sendCloseShared): the reader delivers
	// nothing after it.
	closeBegun atomic.Bool

	open atomic.Bool // bw holds a batch
	owed atomic.Bool // a batch or held frames were there when a HandleMessage call returned: FlushIdle has work

	// With Options.Shared, WriteMessage appends its frames to held, under
	// hmu alone. Whoever sets draining writes held, under wmu, until it
	// finds it empty, and clears draining under hmu when it does: frames
	// appended meanwhile are never left behind.
	hmu      sync.Mutex
	held     *[]byte
	draining bool
	hasHeld  atomic.Bool // held holds frames
	// delivering is set by the transport's reader while it delivers: a
	// writer that finds it clear is not the reader, and may wait.
	delivering atomic.Bool

	closing    atomic.Bool // Close was called
	unanswered atomic.Bool // a ping timed out: the peer is not reading

	mu       sync.Mutex
	timer    *time.Timer // forces the end of the close handshake
	finished bool
	done     chan struct{} // closed by Finish
	pings    map[uint64]chan struct{}
	pingSeq  atomic.Uint64
	pongs    [][]byte // pending asynchronous pongs; a goroutine runs while non-empty

	// The read side, owned by the reader.
	frag      *[]byte // the message being reassembled from fragments
	fragOp    ws.OpCode
	violation error // the protocol violation that made this side close
}

// New returns a Conn writing to nc.
func New(nc net.Conn, opts Options) *Conn {
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = DefaultWriteTimeout
	}
	if opts.CloseTimeout <= 0 {
		opts.CloseTimeout = DefaultCloseTimeout
	}
	c := &Conn{nc: nc, opts: opts, abort: opts.Abort, done: make(chan struct{})}
	if c.abort == nil {
		c.abort = func() { nc.Close() }
	}
	c.dw.Init(nc, opts.WriteTimeout)
	return c
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Subprotocol implements [transport.Conn].
func (c *Conn) Subprotocol() string { return c.opts.Subprotocol }

var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufferSize) }}

// WriteMessage implements [transport.Conn]: it appends p as one binary
// frame to the batch, which reaches the network on Flush (or earlier when
// the batch outgrows its buffer). With Options.Shared it only appends p
// to the frames held in memory.
func (c *Conn) WriteMessage(p []byte) error {
	if c.opts.Shared {
		return c.hold(p)
	}
	c.wmu.Lock()
	err := c.writeFrameLocked(ws.OpBinary, p)
	c.wmu.Unlock()
	return err
}

// Flush implements [transport.Conn]: it writes what WriteMessage holds,
// waiting for the peer as long as it makes progress.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	err := c.writeHeldLocked()
	if err == nil {
		err = c.flushLocked()
	}
	c.wmu.Unlock()
	return err
}

// FlushIdle is the flush on idle of [transport.Releaser], for the
// transport's reader to call before it waits for the network: it flushes
// what was written before a HandleMessage call returned. It never
// waits for another writer: one that holds the write lock flushes what
// the batch holds when it is done (the application's writer calls Flush
// after its writes; pings and close frames flush). With Options.Shared it
// makes one attempt of Options.TryWrite: what the socket does not take
// is written by a goroutine of the Conn's, which holds the write lock
// until it is done.
func (c *Conn) FlushIdle() {
	if !c.owed.Load() {
		return
	}
	c.owed.Store(false)
	if !c.opts.Shared {
		if c.wmu.TryLock() {
			c.flushLocked()
			c.wmu.Unlock()
		}
		return
	}
	c.hmu.Lock()
	if c.draining || c.held == nil {
		c.hmu.Unlock()
		return
	}
	c.draining = true
	c.hmu.Unlock()
	if !c.wmu.TryLock() {
		// A ping, a close frame or Flush is being written: this one
		// waits its turn on a goroutine, which is rare.
		go func() {
			c.wmu.Lock()
			c.drainLocked()
			c.wmu.Unlock()
		}()
		return
	}
	for {
		bp := c.takeHeld()
		if bp == nil {
			c.wmu.Unlock()
			return
		}
		if c.werr != nil || c.closeSent.Load() {
			putHeld(bp)
			continue
		}
		b := *bp
		n, err := c.opts.TryWrite(b)
		if err != nil {
			putHeld(bp)
			c.failLocked(err)
			continue
		}
		if n < len(b) {
			go func() {
				if _, err := c.dw.Write(b[n:]); err != nil {
					c.failLocked(err)
				}
				putHeld(bp)
				c.drainLocked()
				c.wmu.Unlock()
			}()
			return
		}
		putHeld(bp)
	}
}

// Released is for a transport's ReleaseReader: what the released
// HandleMessage call wrote so far is the next reader's to flush on idle.
func (c *Conn) Released() { c.delivered() }

// delivered notes, after a HandleMessage call, whether it left frames
// for [Conn.FlushIdle].
func (c *Conn) delivered() {
	if c.open.Load() || c.hasHeld.Load() {
		c.owed.Store(true)
	}
}

// SetDelivering tells, with Options.Shared, whether the reader is
// delivering messages: while it is not, a WriteMessage that finds more
// than heldLimit bytes held writes them, waiting for the peer, so that a
// writer other than the reader is held back by a peer that reads slowly.
func (c *Conn) SetDelivering(on bool) { c.delivering.Store(on) }

// heldLimit is how much WriteMessage holds, with Options.Shared, before
// a writer that is not the reader waits for the network.
const heldLimit = 64 << 10

// hold appends p as one binary frame to the frames held in memory.
func (c *Conn) hold(p []byte) error {
	c.hmu.Lock()
	if e := c.ferr.Load(); e != nil {
		c.hmu.Unlock()
		return *e
	}
	if c.closeSent.Load() || c.closing.Load() {
		c.hmu.Unlock()
		return transport.ErrClosed
	}
	if c.held == nil {
		c.held = heldPool.Get().(*[]byte)
		c.hasHeld.Store(true)
	}
	b := AppendHeader(*c.held, ws.OpBinary, len(p), nil)
	*c.held = append(b, p...)
	over := len(*c.held) > heldLimit
	c.hmu.Unlock()
	if over && !c.delivering.Load() {
		c.wmu.Lock()
		err := c.writeHeldLocked()
		c.wmu.Unlock()
		return err
	}
	return nil
}

// swapHeldLocked returns the frames held in memory, nil when there are
// none, and leaves none; the caller holds hmu.
func (c *Conn) swapHeldLocked() *[]byte {
	bp := c.held
	c.held = nil
	c.hasHeld.Store(false)
	return bp
}

// swapHeld is swapHeldLocked for a caller that does not hold hmu.
func (c *Conn) swapHeld() *[]byte {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	return c.swapHeldLocked()
}

// takeHeld returns the frames held in memory and leaves none, or, when
// there are none, clears draining and returns nil; the caller holds wmu.
func (c *Conn) takeHeld() *[]byte {
	c.hmu.Lock()
	defer c.hmu.Unlock()
	bp := c.swapHeldLocked()
	if bp == nil {
		c.draining = false
	}
	return bp
}

// drainLocked writes the frames held in memory until there are none,
// waiting for the peer; the caller holds wmu and set draining.
func (c *Conn) drainLocked() {
	for {
		bp := c.takeHeld()
		if bp == nil {
			return
		}
		if c.werr == nil && !c.closeSent.Load() {
			if _, err := c.dw.Write(*bp); err != nil {
				c.failLocked(err)
			}
		}
		putHeld(bp)
	}
}

// writeHeldLocked writes the frames held in memory, unless a drainer is
// on them, before a frame written under wmu; the caller holds wmu, so a
// drainer that is on them has not started.
func (c *Conn) writeHeldLocked() error {
	if !c.opts.Shared || !c.hasHeld.Load() {
		return nil
	}
	for {
		bp := c.swapHeld()
		if bp == nil {
			return c.werr
		}
		var err error
		if c.werr == nil && !c.closeSent.Load() {
			if c.bw != nil {
				err = c.flushLocked()
			}
			if err == nil {
				if _, err = c.dw.Write(*bp); err != nil {
					err = c.failLocked(err)
				}
			}
		}
		putHeld(bp)
		if err != nil {
			return err
		}
	}
}

var heldPool = sync.Pool{New: func() any { b := make([]byte, 0, writeBufferSize); return &b }}

// putHeld returns a buffer of held frames to its pool, unless a large
// batch grew it.
func putHeld(bp *[]byte) {
	if cap(*bp) <= 64<<10 {
		*bp = (*bp)[:0]
		heldPool.Put(bp)
	}
}

func (c *Conn) writeFrameLocked(op ws.OpCode, p []byte) error {
	if c.werr != nil {
		return c.werr
	}
	if c.closeSent.Load() {
		return transport.ErrClosed
	}
	if c.bw == nil {
		c.bw = writerPool.Get().(*bufio.Writer)
		c.bw.Reset(&c.dw)
		c.open.Store(true)
	}
	bw := c.bw
	if bw.Available() < MaxHeaderSize {
		if err := bw.Flush(); err != nil {
			return c.failLocked(err)
		}
	}
	var mask *[4]byte
	var m [4]byte
	if c.opts.Client {
		binary.LittleEndian.PutUint32(m[:], rand.Uint32())
		mask = &m
	}
	bw.Write(AppendHeader(bw.AvailableBuffer(), op, len(p), mask))
	if mask == nil {
		if _, err := bw.Write(p); err != nil {
			return c.failLocked(err)
		}
		return nil
	}
	// A client masks a copy of p, chunk by chunk, straight into the
	// write buffer.
	for off := 0; off < len(p); {
		if bw.Available() == 0 {
			if err := bw.Flush(); err != nil {
				return c.failLocked(err)
			}
		}
		chunk := bw.AvailableBuffer()
		n := min(cap(chunk), len(p)-off)
		chunk = append(chunk, p[off:off+n]...)
		ws.Cipher(chunk, m, off)
		bw.Write(chunk)
		off += n
	}
	return nil
}

func (c *Conn) flushLocked() error {
	if c.werr != nil {
		return c.werr
	}
	if c.bw == nil {
		if c.closeSent.Load() {
			return transport.ErrClosed
		}
		return nil
	}
	err := c.bw.Flush()
	c.putWriterLocked()
	if err != nil {
		return c.failLocked(err)
	}
	return nil
}

// putWriterLocked gives the batch's buffer back; the caller holds wmu.
func (c *Conn) putWriterLocked() {
	if c.bw != nil {
		c.bw.Reset(nil)
		writerPool.Put(c.bw)
		c.bw = nil
		c.open.Store(false)
	}
}

// setErrLocked records the error every later write returns; the caller
// holds wmu.
func (c *Conn) setErrLocked(err error) {
	c.werr = err
	c.ferr.Store(&err)
}

// failLocked records a write error: the frame stream is broken, so the
// connection is aborted.
func (c *Conn) failLocked(err error) error {
	c.setErrLocked(fmt.Errorf("transport: write: %w", err))
	c.putWriterLocked()
	c.abort()
	return c.werr
}

// writeControl sends a control frame at once, with whatever the batch
// holds before it.
func (c *Conn) writeControl(op ws.OpCode, p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writeFrameLocked(op, p); err != nil {
		return err
	}
	return c.flushLocked()
}

// Ping implements [transport.Conn]. It needs the reader running to see
// the pong.
func (c *Conn) Ping(ctx context.Context) error {
	id := c.pingSeq.Add(1)
	ch := make(chan struct{})
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return transport.ErrClosed
	}
	if c.pings == nil {
		c.pings = map[uint64]chan struct{}{}
	}
	c.pings[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pings, id)
		c.mu.Unlock()
	}()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], id)
	if err := c.writeControl(ws.OpPing, b[:]); err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// A peer that leaves a ping unanswered will not answer a
			// close frame either: Close need not wait for it.
			c.unanswered.Store(true)
		}
		return ctx.Err()
	case <-c.done:
		return transport.ErrClosed
	}
}

func (c *Conn) pong(p []byte) {
	if len(p) != 8 {
		return // not one of ours
	}
	id := binary.BigEndian.Uint64(p)
	c.mu.Lock()
	if ch, ok := c.pings[id]; ok {
		close(ch)
		delete(c.pings, id)
	}
	c.mu.Unlock()
}

// Close implements [transport.Conn]: it sends a close frame after what
// the batch holds and gives the peer CloseTimeout to answer before the
// connection is aborted. It does not wait: the transport's Handler learns
// the end through HandleClose.
func (c *Conn) Close(code transport.StatusCode, reason string) error {
	if !c.closing.CompareAndSwap(false, true) {
		return nil
	}
	c.sendClose(code, reason)
	return nil
}

// Closing reports whether Close has been called.
func (c *Conn) Closing() bool { return c.closing.Load() }

// sendClose writes a close frame, unless one went out already, and starts
// the close handshake timer.
func (c *Conn) sendClose(code transport.StatusCode, reason string) {
	var body [maxControlPayload]byte
	n := 0
	if code != transport.StatusNoStatus && code != transport.StatusAbnormal {
		binary.BigEndian.PutUint16(body[:2], uint16(code))
		n = 2 + copy(body[2:], truncateReason(reason))
	}
	c.closeBegun.Store(true)
	if c.opts.Shared && c.delivering.Load() {
		c.sendCloseShared(body[:n])
		return
	}
	c.wmu.Lock()
	c.closeLocked(body[:n])
}

// closeLocked writes what is held and a close frame with payload p,
// waiting for the peer, unless a close frame went out already; the caller
// holds wmu, which closeLocked releases.
func (c *Conn) closeLocked(p []byte) {
	if c.closeSent.Load() {
		c.wmu.Unlock()
		return
	}
	err := c.writeHeldLocked()
	if err == nil {
		err = c.writeFrameLocked(ws.OpClose, p)
	}
	if err == nil {
		err = c.flushLocked()
	}
	c.closeSent.Store(true)
	c.wmu.Unlock()
	c.closeWritten(err)
}

// sendCloseShared is sendClose for the reader of an Options.Shared
// connection (a peer's close frame, a protocol violation, Close from
// HandleMessage): the reader serves other connections too, so it waits
// neither for the peer nor for a writer that may be waiting for it. It
// writes the held frames and the close frame with one attempt of
// Options.TryWrite, and leaves what the socket does not take, or the
// whole close when another writer holds the connection, to a goroutine.
func (c *Conn) sendCloseShared(p []byte) {
	if !c.wmu.TryLock() {
		go func() {
			c.wmu.Lock()
			c.closeLocked(p)
		}()
		return
	}
	if c.closeSent.Load() || c.werr != nil {
		c.closeLocked(p) // which writes nothing
		return
	}
	if c.bw != nil {
		// Not expected: bw is only open while a control frame is
		// written.
		go c.closeLocked(p)
		return
	}
	// Frames held from now on are refused or dropped: they would follow
	// the close frame.
	c.closeSent.Store(true)
	bp := c.swapHeld()
	if bp == nil {
		bp = heldPool.Get().(*[]byte)
	}
	b := AppendHeader(*bp, ws.OpClose, len(p), nil)
	b = append(b, p...)
	*bp = b
	n, err := c.opts.TryWrite(b)
	if err == nil && n < len(b) {
		go func() {
			_, err := c.dw.Write(b[n:])
			if err != nil {
				err = c.failLocked(err)
			}
			putHeld(bp)
			c.wmu.Unlock()
			c.closeWritten(err)
		}()
		return
	}
	if err != nil {
		err = c.failLocked(err)
	}
	putHeld(bp)
	c.wmu.Unlock()
	c.closeWritten(err)
}

// closeWritten ends what sendClose started once the close frame is
// written, or failed with err: it starts the close handshake timer.
func (c *Conn) closeWritten(err error) {
	if err != nil || c.unanswered.Load() {
		c.abort()
		return
	}
	c.mu.Lock()
	if !c.finished && c.timer == nil {
		c.timer = time.AfterFunc(c.opts.CloseTimeout, c.abort)
	}
	c.mu.Unlock()
}

// truncateReason cuts reason to the 123 bytes a close frame can carry,
// on a character boundary.
func truncateReason(s string) string {
	const max = maxControlPayload - 2
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i]
}

// violate closes the connection for a protocol violation by the peer.
func (c *Conn) violate(code transport.StatusCode, reason string) error {
	err := fmt.Errorf("transport: %s: %w", reason, &transport.CloseError{Code: code, Reason: reason})
	if c.violation == nil {
		c.violation = err
	}
	c.sendClose(code, reason)
	return err
}

// Header checks a frame header before its payload is read and says what
// to do with the payload. A violation (bad bits, masking, fragmentation,
// or a message over the read limit) sends a close frame and skips.
// After a close frame went out, data frames are skipped: nothing is
// delivered once this side has closed.
func (c *Conn) Header(h ws.Header) Action {
	if code, reason := c.check(h); code != 0 {
		if !c.closeBegun.Load() {
			c.violate(code, reason)
		}
		return Skip
	}
	if !h.OpCode.IsControl() && c.closeBegun.Load() {
		return Skip
	}
	return Read
}

func (c *Conn) check(h ws.Header) (transport.StatusCode, string) {
	switch {
	case h.Rsv != 0:
		return transport.StatusProtocolError, "reserved bits set"
	case h.OpCode.IsReserved():
		return transport.StatusProtocolError, "reserved opcode"
	case h.Masked == c.opts.Client:
		if c.opts.Client {
			return transport.StatusProtocolError, "masked frame from the server"
		}
		return transport.StatusProtocolError, "unmasked frame from the client"
	case h.OpCode.IsControl():
		if !h.Fin || h.Length > maxControlPayload {
			return transport.StatusProtocolError, "fragmented or oversized control frame"
		}
		return 0, ""
	case h.OpCode == ws.OpContinuation && c.frag == nil:
		return transport.StatusProtocolError, "continuation frame outside a fragmented message"
	case h.OpCode != ws.OpContinuation && c.frag != nil:
		return transport.StatusProtocolError, "new message inside a fragmented message"
	}
	size := h.Length
	if c.frag != nil {
		size += int64(len(*c.frag))
	}
	if size > c.opts.ReadLimit {
		return transport.StatusMessageTooBig, fmt.Sprintf("message exceeds the read limit of %d bytes", c.opts.ReadLimit)
	}
	return 0, ""
}

var fragPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// Frame handles a frame whose header [Conn.Header] let through. p is the
// unmasked payload; Frame may modify it, and hd sees it only during
// HandleMessage. A non-nil error means the connection has ended (a close
// frame arrived) and the reader must call [Conn.Finish].
func (c *Conn) Frame(h ws.Header, p []byte, hd transport.Handler) error {
	switch h.OpCode {
	case ws.OpBinary, ws.OpText:
		if c.closeBegun.Load() {
			return nil
		}
		if !h.Fin {
			c.frag = fragPool.Get().(*[]byte)
			*c.frag = append((*c.frag)[:0], p...)
			c.fragOp = h.OpCode
			return nil
		}
		hd.HandleMessage(transport.MessageType(h.OpCode), p)
		c.delivered()
	case ws.OpContinuation:
		*c.frag = append(*c.frag, p...)
		if !h.Fin {
			return nil
		}
		// The message leaves the connection before it is delivered: a
		// reader released during HandleMessage (see transport.Releaser)
		// must not reuse its buffer.
		frag := c.frag
		c.frag = nil
		if !c.closeBegun.Load() {
			hd.HandleMessage(transport.MessageType(c.fragOp), *frag)
			c.delivered()
		}
		putFrag(frag)
	case ws.OpPing:
		if !c.opts.AsyncPong {
			c.writeControl(ws.OpPong, p)
		} else {
			c.queuePong(p)
		}
	case ws.OpPong:
		c.pong(p)
	case ws.OpClose:
		return c.peerClose(p)
	}
	return nil
}

// maxPendingPongs bounds the pongs an asynchronous answerer holds.
const maxPendingPongs = 16

func (c *Conn) queuePong(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished || len(c.pongs) >= maxPendingPongs {
		return
	}
	c.pongs = append(c.pongs, append([]byte(nil), p...))
	if len(c.pongs) == 1 {
		go c.writePongs()
	}
}

func (c *Conn) writePongs() {
	c.mu.Lock()
	for len(c.pongs) > 0 {
		p := c.pongs[0]
		c.mu.Unlock()
		c.writeControl(ws.OpPong, p)
		c.mu.Lock()
		c.pongs = c.pongs[1:]
	}
	c.pongs = nil
	c.mu.Unlock()
}

func (c *Conn) dropFrag() {
	if c.frag == nil {
		return
	}
	putFrag(c.frag)
	c.frag = nil
}

func putFrag(frag *[]byte) {
	if cap(*frag) <= 64<<10 {
		*frag = (*frag)[:0]
		fragPool.Put(frag)
	}
}

// peerClose answers the peer's close frame, if this side has not sent one,
// and returns why the connection ended.
func (c *Conn) peerClose(p []byte) error {
	code, reason := transport.StatusNoStatus, ""
	if len(p) == 1 {
		return c.violate(transport.StatusProtocolError, "close frame with a one-byte payload")
	}
	if len(p) >= 2 {
		code = transport.StatusCode(binary.BigEndian.Uint16(p))
		if !validCloseCode(uint16(code)) {
			return c.violate(transport.StatusProtocolError, fmt.Sprintf("invalid close code %d", code))
		}
		if !utf8.Valid(p[2:]) {
			return c.violate(transport.StatusCode(ws.StatusInvalidFramePayloadData), "close reason is not UTF-8")
		}
		reason = string(p[2:])
	}
	c.sendClose(code, reason)
	return &transport.CloseError{Code: code, Reason: reason}
}

// Finish ends the connection once its reader has stopped: it closes the
// network connection, wakes pending pings, releases buffers and returns
// the error to report to HandleClose: [transport.ErrClosed] when Close
// was called, the violation when this side closed for one, err otherwise.
func (c *Conn) Finish(err error) error {
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return transport.ErrClosed
	}
	c.finished = true
	if c.timer != nil {
		c.timer.Stop()
	}
	close(c.done)
	c.mu.Unlock()
	// Closing first unblocks a writer stuck on the network, so that wmu
	// can be taken.
	c.nc.Close()
	c.wmu.Lock()
	c.putWriterLocked()
	if c.werr == nil {
		c.setErrLocked(transport.ErrClosed)
	}
	c.wmu.Unlock()
	c.hmu.Lock()
	if !c.draining {
		if bp := c.swapHeldLocked(); bp != nil {
			putHeld(bp)
		}
	}
	c.hmu.Unlock()
	c.dropFrag()
	switch {
	case c.closing.Load():
		return transport.ErrClosed
	case c.violation != nil:
		return c.violation
	}
	return err
}

// ProtocolError closes the connection for a framing error that leaves the
// rest of the stream unreadable, and returns the error that ends it.
func (c *Conn) ProtocolError(reason string) error {
	return c.violate(transport.StatusProtocolError, reason)
}
