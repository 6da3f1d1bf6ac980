package clientgo

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
)

// call is the untyped state of one call: what the reader delivered and
// how the call ended. The typed wrappers (Call, ServerStream, ...) decode.
//
// Unary calls are recycled (see getUnary): once Call has returned, the
// same call may serve another call, on this connection or another. The
// reader, which may still hold it from before, names the call it means by
// connection and sequence number (see is), and a call recycled or serving
// another call ignores it. Fields the reader reads without c.mu (kind,
// signal, taken, stop) never change on a recycled call.
type call struct {
	ctx  context.Context
	cn   *conn
	seq  int64
	name string
	kind rpc.Kind

	// done tells that the call has ended, for whatever reason: it is
	// closed for streams; a unary call, whose only waiter is Call, gets
	// one value instead, so that the channel can serve again.
	done chan struct{}
	// signal wakes a stream consumer (nil for single-response kinds).
	signal chan struct{}
	// taken wakes the reader waiting for room in a full stream buffer.
	taken chan struct{}
	// stop releases the context.AfterFunc of a stream.
	stop func() bool
	// timer bounds the reader's wait for a stream's consumer; only the
	// reader uses it.
	timer *time.Timer

	mu         sync.Mutex
	ended      bool
	err        error // nil for a normal end
	result     *wire.Buffer
	items      []*wire.Buffer
	head       int
	size       int    // payload bytes in items
	takes      uint64 // items the consumer has taken
	paused     bool   // the reader waits for room in items
	leading    rpc.Metadata
	trailing   rpc.Metadata
	sendClosed bool // the client's stream is over (END_OF_STREAM sent)
}

// unaryPool holds unary calls for reuse.
var unaryPool = sync.Pool{New: func() any {
	return &call{kind: rpc.KindUnary, done: make(chan struct{}, 1), ended: true}
}}

// getUnary returns a unary call, recycled when possible, for call seq on
// cn.
func getUnary(ctx context.Context, cn *conn, seq int64, name string) *call {
	c := unaryPool.Get().(*call)
	c.reuse(ctx, cn, seq, name)
	return c
}

// reuse makes a recycled unary call call seq on cn.
func (c *call) reuse(ctx context.Context, cn *conn, seq int64, name string) {
	c.mu.Lock()
	c.ctx, c.cn, c.seq, c.name = ctx, cn, seq, name
	c.ended, c.err, c.sendClosed = false, nil, false
	c.mu.Unlock()
}

// recycle makes an ended unary call available for reuse, once its caller
// is done with it: its value on done has been received and its outcome
// taken.
func (c *call) recycle() {
	c.clear()
	unaryPool.Put(c)
}

// clear forgets the call a unary call served.
func (c *call) clear() {
	c.mu.Lock()
	c.ctx, c.cn, c.seq, c.name = nil, nil, 0, ""
	c.ended, c.err, c.result, c.leading, c.trailing = true, nil, nil, nil, nil
	c.mu.Unlock()
}

// isLocked reports whether c is still call seq on cn: a recycled call
// may have become another. c.mu is held.
func (c *call) isLocked(cn *conn, seq int64) bool {
	return c.cn == cn && c.seq == seq
}

// deliver applies one response frame of call f.Seq on cn. It runs on the
// transport's reader; it blocks only while a stream's buffer is full (see
// push).
func (c *call) deliver(cn *conn, f *wire.Response) {
	switch f.Type {
	case wire.TypeMetadata:
		c.mu.Lock()
		if c.isLocked(cn, f.Seq) && !c.ended {
			c.leading = mergeMD(c.leading, f.Leading)
			if c.leading == nil {
				c.leading = rpc.Metadata{} // an empty METADATA frame still says the header came
			}
		}
		c.mu.Unlock()
		c.wake()
	case wire.TypeError:
		e, err := wire.DecodeError(f.Data)
		if err != nil {
			c.cancelOn(cn, f.Seq, &protocolError{reason: "undecodable ERROR payload: " + err.Error()})
			return
		}
		e.Metadata = f.Trailing
		c.finish(cn, f.Seq, e, f.Leading, f.Trailing, nil)
	case wire.TypeEndOfStream:
		if !c.kind.ResponseStreams() {
			c.mu.Lock()
			name := c.name
			c.mu.Unlock()
			c.cancelOn(cn, f.Seq, &protocolError{reason: fmt.Sprintf("END_OF_STREAM without a result for %s call %q", c.kind, name)})
			return
		}
		c.finish(cn, f.Seq, nil, f.Leading, f.Trailing, nil)
	case wire.TypeMessage:
		b := wire.GetBuffer()
		b.B = append(b.B, f.Data...)
		if !c.kind.ResponseStreams() {
			c.finish(cn, f.Seq, nil, f.Leading, f.Trailing, b)
			return
		}
		c.push(b, f.Leading)
	}
}

// push buffers one stream item for the consumer. While the buffer is
// full the reader waits for the consumer to take an item, which pauses
// the whole connection and, through TCP, the server: a fast stream thus
// runs at the pace of its consumer, and memory stays bounded. Only a
// consumer that takes nothing for the slow-consumer timeout while the
// reader waits gets its stream cancelled; one that keeps taking items,
// however slowly, never does.
func (c *call) push(b *wire.Buffer, leading rpc.Metadata) {
	cfg := c.cn.cl.cfg
	c.mu.Lock()
	for !c.ended && !c.roomLocked(cfg, len(b.B)) {
		if cfg.slowConsumer < 0 {
			c.slowConsumerLocked(b)
			return
		}
		takes := c.takes
		c.paused = true
		c.mu.Unlock()
		fired, closing := c.waitTaken(cfg.slowConsumer)
		if closing {
			// The client is closing: the call fails with the connection.
			wire.PutBuffer(b)
			return
		}
		c.mu.Lock()
		c.paused = false
		if fired && c.takes == takes && !c.ended && !c.roomLocked(cfg, len(b.B)) {
			c.slowConsumerLocked(b)
			return
		}
	}
	if c.ended {
		c.mu.Unlock()
		wire.PutBuffer(b)
		return
	}
	c.leading = mergeMD(c.leading, leading)
	if c.head > 0 && len(c.items) == cap(c.items) {
		// Move the waiting items to the front rather than grow: the
		// consumer may never empty the buffer of a long stream.
		n := copy(c.items, c.items[c.head:])
		clear(c.items[n:])
		c.items, c.head = c.items[:n], 0
	}
	c.items = append(c.items, b)
	c.size += len(b.B)
	c.mu.Unlock()
	c.wake()
}

// roomLocked reports whether an item of size bytes fits in the buffer. An
// empty buffer takes any item, however large.
func (c *call) roomLocked(cfg *config, size int) bool {
	n := len(c.items) - c.head
	return n == 0 || (n < cfg.streamItems && c.size+size <= cfg.streamBytes)
}

// waitTaken waits, on the reader, until the consumer takes an item, the
// call ends, the client closes the connection (closing) or d passes
// (fired).
func (c *call) waitTaken(d time.Duration) (fired, closing bool) {
	if c.timer == nil {
		c.timer = time.NewTimer(d)
	} else {
		c.timer.Reset(d)
	}
	select {
	case <-c.taken:
	case <-c.done:
	case <-c.timer.C:
		return true, false
	case <-c.cn.closing:
		closing = true
	}
	if !c.timer.Stop() {
		// Programs built for Go before 1.23 keep the old timers, whose
		// channel may hold a value after Stop: it must not end the next
		// wait at once.
		select {
		case <-c.timer.C:
		default:
		}
	}
	return false, closing
}

// slowConsumerLocked drops b and cancels the stream with ErrSlowConsumer;
// it releases c.mu.
func (c *call) slowConsumerLocked(b *wire.Buffer) {
	n, size := len(c.items)-c.head, c.size
	c.mu.Unlock()
	wire.PutBuffer(b)
	c.cancel(fmt.Errorf("%w (%d messages, %d bytes waiting)", ErrSlowConsumer, n, size))
}

// mergeMD returns a merged with b, without changing a: callers may hold
// the map a returned by Header.
func mergeMD(a, b rpc.Metadata) rpc.Metadata {
	if len(b) == 0 {
		return a
	}
	if a == nil {
		return b
	}
	return a.Clone().Merge(b)
}

func (c *call) wake() {
	if c.signal == nil {
		return
	}
	select {
	case c.signal <- struct{}{}:
	default:
	}
}

// next returns the next stream item, waiting for it; at the end it
// returns nil and the call's error (nil for a normal end).
func (c *call) next() (*wire.Buffer, error) {
	for {
		c.mu.Lock()
		if c.head < len(c.items) {
			b := c.items[c.head]
			c.items[c.head] = nil
			c.head++
			c.size -= len(b.B)
			if c.head == len(c.items) {
				c.items, c.head = c.items[:0], 0
			}
			c.takes++
			if c.paused {
				// The reader waits for room: there is some now.
				c.paused = false
				select {
				case c.taken <- struct{}{}:
				default:
				}
			}
			c.mu.Unlock()
			return b, nil
		}
		if c.ended {
			err := c.err
			c.mu.Unlock()
			return nil, err
		}
		c.mu.Unlock()
		<-c.signal
	}
}

// waitHeader waits until leading metadata has arrived, an item is
// buffered or the call has ended, or ctx ends.
func (c *call) waitHeader(ctx context.Context) (rpc.Metadata, error) {
	for {
		c.mu.Lock()
		md, ready := c.leading, c.leading != nil || c.head < len(c.items) || c.ended
		err := c.err
		c.mu.Unlock()
		if ready {
			if md == nil && err != nil {
				return nil, err
			}
			return md, nil
		}
		select {
		case <-c.signal:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// buffered returns the number of items and bytes waiting for the
// consumer.
func (c *call) buffered() (int, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items) - c.head, c.size
}

// endLocked marks call seq on cn ended under c.mu and removes it from
// the connection's open calls, before its waiter is woken: a caller that
// makes its next call at once finds this one gone. It reports false if the
// call had already ended (or c is no longer that call).
func (c *call) endLocked(cn *conn, seq int64, err error) bool {
	if c.ended || !c.isLocked(cn, seq) {
		return false
	}
	c.ended = true
	c.err = err
	c.cn.remove(c)
	if c.kind == rpc.KindUnary {
		c.done <- struct{}{}
	} else {
		close(c.done)
	}
	return true
}

// finish ends call seq on cn as the server ended it: with a result, an
// END_OF_STREAM or an ERROR.
func (c *call) finish(cn *conn, seq int64, err error, leading, trailing rpc.Metadata, result *wire.Buffer) {
	c.mu.Lock()
	if !c.endLocked(cn, seq, err) {
		c.mu.Unlock()
		if result != nil {
			wire.PutBuffer(result)
		}
		return
	}
	c.leading = mergeMD(c.leading, leading)
	c.trailing = trailing
	c.result = result
	if c.kind.RequestStreams() && !c.sendClosed {
		// The server is done but our stream is still open: a message sent
		// meanwhile would open a new call on the server under this seq.
		// CANCEL, written after any such message, closes it.
		c.sendClosed = true
		c.cn.enqueue(c.frame(wire.TypeCancel))
	}
	c.mu.Unlock()
	c.released()
}

// cancel ends the call on this side with err and tells the server. It
// reports false when the call had already ended. Only the call's own
// goroutines (its caller, its stream's methods and context) use it; the
// reader uses cancelOn.
func (c *call) cancel(err error) bool { return c.cancelOn(c.cn, c.seq, err) }

// cancelOn is cancel for call seq on cn.
func (c *call) cancelOn(cn *conn, seq int64, err error) bool {
	c.mu.Lock()
	if !c.endLocked(cn, seq, err) {
		c.mu.Unlock()
		return false
	}
	c.dropItemsLocked()
	c.sendClosed = true
	c.cn.enqueue(c.frame(wire.TypeCancel))
	c.mu.Unlock()
	c.released()
	return true
}

// fail ends call seq on cn because the connection is gone.
func (c *call) fail(cn *conn, seq int64, err error) {
	c.mu.Lock()
	if !c.endLocked(cn, seq, err) {
		c.mu.Unlock()
		return
	}
	c.sendClosed = true
	c.mu.Unlock()
	c.released()
}

// released finishes the bookkeeping of an ended call.
func (c *call) released() {
	if c.stop != nil {
		c.stop()
	}
	c.wake()
}

func (c *call) dropItemsLocked() {
	for i := c.head; i < len(c.items); i++ {
		wire.PutBuffer(c.items[i])
		c.items[i] = nil
	}
	c.items, c.head, c.size = nil, 0, 0
}

// frame encodes a control frame of the call: [seq, nil, rpc, typ].
func (c *call) frame(typ wire.FrameType) *wire.Buffer {
	b := wire.GetBuffer()
	enc := wire.GetEncoder()
	// A nil payload and no metadata cannot fail to encode.
	_ = enc.Request(b, c.seq, c.name, typ, nil, nil)
	wire.PutEncoder(enc)
	return b
}

// send queues one message of the client's stream. Once the call has
// ended it returns the call's error, or io.EOF after a normal end.
func (c *call) send(ctx context.Context, v any) error {
	if err := c.cn.waitSpace(ctx); err != nil {
		return err
	}
	b := wire.GetBuffer()
	enc := wire.GetEncoder()
	err := enc.Request(b, c.seq, c.name, wire.TypeMessage, v, nil)
	wire.PutEncoder(enc)
	if err != nil {
		wire.PutBuffer(b)
		return fmt.Errorf("clientgo: encoding a message for %q: %w", c.name, err)
	}
	c.mu.Lock()
	if c.sendClosed {
		err := c.sendErrLocked()
		c.mu.Unlock()
		wire.PutBuffer(b)
		return err
	}
	// Enqueued under c.mu, so that it cannot pass the CANCEL that finish
	// writes when the server ends the call.
	c.cn.enqueue(b)
	c.mu.Unlock()
	return nil
}

// closeSend writes END_OF_STREAM, once. It returns the call's error if
// the call failed, and nil otherwise.
func (c *call) closeSend() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sendClosed {
		if c.ended {
			return c.err
		}
		return nil
	}
	c.sendClosed = true
	c.cn.enqueue(c.frame(wire.TypeEndOfStream))
	return nil
}

func (c *call) sendErrLocked() error {
	if c.ended {
		if c.err != nil {
			return c.err
		}
		return io.EOF
	}
	return errSendClosed
}

// outcome returns how the call ended, once it has. The result buffer
// passes to the caller.
func (c *call) outcome() (result *wire.Buffer, leading, trailing rpc.Metadata, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	result, c.result = c.result, nil
	return result, c.leading, c.trailing, c.err
}

// userErr is the error the caller sees for the call's error err. The
// server's 408 for a deadline that came from the call's context is
// reported as context.DeadlineExceeded, as the client's own timer would
// have: both fire at about the same time and either may win.
func (c *call) userErr(err error) error {
	if err == nil || !rpc.IsWireError(err) || rpc.CodeOf(err) != rpc.CodeTimeout {
		return err
	}
	if d, ok := c.ctx.Deadline(); ok && !time.Now().Before(d) {
		return context.DeadlineExceeded
	}
	return err
}

func (c *call) metadata() (leading, trailing rpc.Metadata) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leading, c.trailing
}

// Call makes a unary call: it sends req to the handler name and returns
// its decoded result.
//
// The call's context bounds it: when ctx ends, the client sends CANCEL
// and Call returns ctx.Err() at once. A deadline on ctx also travels to
// the server as request metadata ([rpc.TimeoutKey]), rounded up to the
// millisecond so that the server never gives up before the client.
//
// A server error is an [*rpc.Error] with [rpc.IsWireError] true. A
// connection lost before the result arrived gives [ErrConnectionLost];
// a closed client gives [ErrClosed]. While the client is reconnecting,
// Call waits for the connection (or for ctx to end).
func Call[Req, Res any](ctx context.Context, c *Client, name string, req Req, opts ...CallOption) (Res, error) {
	var res Res
	var cc callConfig
	if len(opts) > 0 {
		cc = newCallConfig(opts)
	}
	cl, err := c.start(ctx, name, rpc.KindUnary, req, cc.md)
	if err != nil {
		return res, err
	}
	select {
	case <-cl.done:
	case <-ctx.Done():
		cancelled := cl.cancel(ctx.Err())
		<-cl.done // the call has ended: by cancel, or meanwhile
		if cancelled {
			cl.recycle()
			return res, ctx.Err()
		}
		// The call ended meanwhile: use its outcome.
	}
	b, leading, trailing, err := cl.outcome()
	if cc.header != nil {
		*cc.header = leading
	}
	if cc.trailer != nil {
		*cc.trailer = trailing
	}
	if err != nil {
		err = cl.userErr(err)
		cl.recycle()
		return res, err
	}
	cl.recycle()
	err = codec.Unmarshal(b.B, &res)
	wire.PutBuffer(b)
	if err != nil {
		var zero Res // not a value decoded in part
		return zero, fmt.Errorf("clientgo: decoding the result of %q into %T: %w", name, res, err)
	}
	return res, nil
}
