package clientgo

import (
	"context"
	"fmt"
	"io"
	"iter"
	"sync"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
)

// openStream starts a streaming call whose lifetime is bound to ctx: when
// ctx ends, the call is cancelled (CANCEL goes to the server) with no
// goroutine waiting for it meanwhile.
func openStream(ctx context.Context, c *Client, name string, kind rpc.Kind, req any, opts []CallOption) (*call, callConfig, error) {
	cc := newCallConfig(opts)
	cl, err := c.start(ctx, name, kind, req, cc.md)
	if err != nil {
		return nil, cc, err
	}
	cl.mu.Lock()
	if !cl.ended {
		cl.stop = context.AfterFunc(ctx, func() { cl.cancel(ctx.Err()) })
	}
	cl.mu.Unlock()
	return cl, cc, nil
}

// receiver is the receiving half of server and bidirectional streams.
type receiver[Res any] struct {
	cl *call
	cc callConfig

	once sync.Once // the end has been seen by the consumer
}

func (r *receiver[Res]) recv() (Res, error) {
	var v Res
	b, err := r.cl.next()
	if b == nil {
		r.observeEnd()
		if err == nil {
			err = io.EOF
		}
		return v, r.cl.userErr(err)
	}
	err = codec.Unmarshal(b.B, &v)
	wire.PutBuffer(b)
	if err != nil {
		err = fmt.Errorf("clientgo: decoding a message of %q into %T: %w", r.cl.name, v, err)
		r.cl.cancel(err)
		r.observeEnd()
		var zero Res // not a value decoded in part
		return zero, err
	}
	return v, nil
}

func (r *receiver[Res]) all() iter.Seq2[Res, error] {
	return func(yield func(Res, error) bool) {
		for {
			v, err := r.recv()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(v, err)
				return
			}
			if !yield(v, nil) {
				r.close()
				return
			}
		}
	}
}

// observeEnd hands the metadata to the call options, once.
func (r *receiver[Res]) observeEnd() {
	r.once.Do(func() {
		leading, trailing := r.cl.metadata()
		if r.cc.header != nil {
			*r.cc.header = leading
		}
		if r.cc.trailer != nil {
			*r.cc.trailer = trailing
		}
	})
}

func (r *receiver[Res]) err() error {
	r.cl.mu.Lock()
	defer r.cl.mu.Unlock()
	if !r.cl.ended {
		return nil
	}
	return r.cl.userErr(r.cl.err)
}

func (r *receiver[Res]) close() {
	r.cl.cancel(ErrStreamClosed)
	r.observeEnd()
}

// ServerStream is a server-streaming call in progress, returned by
// [CallServerStream]. Receive its messages with [ServerStream.Recv] or
// range over [ServerStream.All].
//
// Recv (or All) must not be called from several goroutines at once; Close,
// Header, Trailer and Err may be called from any goroutine.
type ServerStream[Res any] struct {
	r receiver[Res]
}

// CallServerStream starts a server-streaming call: it sends req to the
// handler name and returns the stream of its responses.
//
// ctx bounds the whole stream: when it ends, the client sends CANCEL and
// the stream ends with ctx.Err(). Its deadline, if any, goes to the server
// as for [Call]. The stream holds up to the client's stream buffer of
// messages not yet received; when it is full the server is held to the
// consumer's pace, and a consumer that stops receiving ends the stream
// with [ErrSlowConsumer] (see the package doc on backpressure).
func CallServerStream[Req, Res any](ctx context.Context, c *Client, name string, req Req, opts ...CallOption) (*ServerStream[Res], error) {
	cl, cc, err := openStream(ctx, c, name, rpc.KindServerStream, req, opts)
	if err != nil {
		return nil, err
	}
	return &ServerStream[Res]{r: receiver[Res]{cl: cl, cc: cc}}, nil
}

// Recv returns the next message, waiting for it. After the last one it
// returns [io.EOF] if, and only if, the server ended the stream normally
// (END_OF_STREAM); otherwise the error that ended it: an [*rpc.Error]
// from the server, ctx.Err() if the stream's context ended,
// [ErrConnectionLost], [ErrClosed], [ErrStreamClosed] or
// [ErrSlowConsumer], none of which is io.EOF, so that a loop reading
// until io.EOF never takes a stream cut short for a complete one.
// Messages that arrived before an error from the server or a lost
// connection are returned first; cancelling (through the context or
// Close) drops them.
func (s *ServerStream[Res]) Recv() (Res, error) { return s.r.recv() }

// All returns an iterator over the stream's messages. It yields each
// message with a nil error; if the stream ends other than by the server's
// END_OF_STREAM (an error, a lost connection, a cancelled context) it
// then yields the zero Res with the error, once, so a loop must check it.
// Breaking out of the loop closes the stream.
func (s *ServerStream[Res]) All() iter.Seq2[Res, error] { return s.r.all() }

// Header returns the leading metadata received so far: it is known once
// the first message (or the end) has been received, or earlier when the
// server sent it on its own.
func (s *ServerStream[Res]) Header() rpc.Metadata {
	md, _ := s.r.cl.metadata()
	return md
}

// WaitHeader waits for the server's leading metadata, sent on its own or
// with the first message, and returns it; it returns nil if the stream
// ended without any, and the stream's error if it failed first. It must
// not be called while another goroutine is in Recv.
func (s *ServerStream[Res]) WaitHeader(ctx context.Context) (rpc.Metadata, error) {
	return s.r.cl.waitHeader(ctx)
}

// Trailer returns the trailing metadata, known once Recv has returned
// io.EOF.
func (s *ServerStream[Res]) Trailer() rpc.Metadata {
	_, md := s.r.cl.metadata()
	return md
}

// Err returns the error that ended the stream: nil while it is open and
// after a normal end.
func (s *ServerStream[Res]) Err() error { return s.r.err() }

// Close cancels the stream if it is still open (CANCEL goes to the
// server) and drops any messages not yet received; Recv then returns
// [ErrStreamClosed], at every call, and so does Err. A stream that has
// already ended (the server's END_OF_STREAM or error has arrived, or the
// connection was lost) is left as it is: Recv goes on returning the
// messages that arrived and then how it ended. It is safe to call more
// than once; it always returns nil.
func (s *ServerStream[Res]) Close() error {
	s.r.close()
	return nil
}

// ClientStream is a client-streaming call in progress, returned by
// [CallClientStream]. Send messages with [ClientStream.Send], then end the
// stream and get the result with [ClientStream.CloseAndReceive].
//
// Send must not be called from several goroutines at once; Close may be
// called from any goroutine.
type ClientStream[Req, Res any] struct {
	ctx context.Context
	cl  *call
	cc  callConfig
}

// CallClientStream starts a client-streaming call to the handler name. The
// server's handler starts at once, with the request metadata.
//
// ctx bounds the whole call: when it ends, the client sends CANCEL and
// Send and CloseAndReceive return ctx.Err(). Its deadline, if any, goes to
// the server as for [Call].
func CallClientStream[Req, Res any](ctx context.Context, c *Client, name string, opts ...CallOption) (*ClientStream[Req, Res], error) {
	cl, cc, err := openStream(ctx, c, name, rpc.KindClientStream, nil, opts)
	if err != nil {
		return nil, err
	}
	return &ClientStream[Req, Res]{ctx: ctx, cl: cl, cc: cc}, nil
}

// Send sends one message. It waits while the connection's send queue is
// full (see [DefaultSendQueueBytes]). Once the call has ended it returns
// its error ([io.EOF] only if the server already answered, for instance
// with an early result; [ErrConnectionLost] and the like otherwise); call
// CloseAndReceive for the outcome.
func (s *ClientStream[Req, Res]) Send(msg Req) error { return s.cl.send(s.ctx, msg) }

// CloseAndReceive ends the client's stream (END_OF_STREAM) and waits for
// the result. Errors are those of [Call].
func (s *ClientStream[Req, Res]) CloseAndReceive() (Res, error) {
	var res Res
	s.cl.closeSend()
	<-s.cl.done
	b, leading, trailing, err := s.cl.outcome()
	if s.cc.header != nil {
		*s.cc.header = leading
	}
	if s.cc.trailer != nil {
		*s.cc.trailer = trailing
	}
	if err != nil {
		return res, s.cl.userErr(err)
	}
	if b == nil {
		return res, fmt.Errorf("clientgo: the result of %q was already received", s.cl.name)
	}
	err = codec.Unmarshal(b.B, &res)
	wire.PutBuffer(b)
	if err != nil {
		var zero Res // not a value decoded in part
		return zero, fmt.Errorf("clientgo: decoding the result of %q into %T: %w", s.cl.name, res, err)
	}
	return res, nil
}

// Header returns the leading metadata received so far; it is complete
// once CloseAndReceive has returned.
func (s *ClientStream[Req, Res]) Header() rpc.Metadata {
	md, _ := s.cl.metadata()
	return md
}

// Trailer returns the trailing metadata, known once CloseAndReceive has
// returned.
func (s *ClientStream[Req, Res]) Trailer() rpc.Metadata {
	_, md := s.cl.metadata()
	return md
}

// Close abandons the call if it is still open (CANCEL goes to the
// server); Send and CloseAndReceive then return [ErrStreamClosed]. A call
// that has already ended (the server answered or failed, or the
// connection was lost) is left as it is. It is safe to call more than
// once; it always returns nil.
func (s *ClientStream[Req, Res]) Close() error {
	s.cl.cancel(ErrStreamClosed)
	return nil
}

// BidiStream is a bidirectional call in progress, returned by
// [CallBidiStream]. Messages flow both ways independently: send with
// [BidiStream.Send] and end the sending side with [BidiStream.CloseSend];
// receive with [BidiStream.Recv] or range over [BidiStream.All].
//
// Send and Recv may be called concurrently with each other, but neither
// from several goroutines at once; Close, CloseSend, Header, Trailer and
// Err may be called from any goroutine.
type BidiStream[Req, Res any] struct {
	ctx context.Context
	r   receiver[Res]
}

// CallBidiStream starts a bidirectional call to the handler name. The
// server's handler starts at once, with the request metadata, and may
// send before the client does.
//
// ctx bounds the whole call, as for [CallServerStream]; the receiving side
// is buffered and bounded in the same way.
func CallBidiStream[Req, Res any](ctx context.Context, c *Client, name string, opts ...CallOption) (*BidiStream[Req, Res], error) {
	cl, cc, err := openStream(ctx, c, name, rpc.KindBidiStream, nil, opts)
	if err != nil {
		return nil, err
	}
	return &BidiStream[Req, Res]{ctx: ctx, r: receiver[Res]{cl: cl, cc: cc}}, nil
}

// Send sends one message, as [ClientStream.Send] does.
func (s *BidiStream[Req, Res]) Send(msg Req) error { return s.r.cl.send(s.ctx, msg) }

// CloseSend ends the sending side (END_OF_STREAM); the server may go on
// sending. Later calls do nothing. It returns the call's error if the
// call has failed, and nil otherwise.
func (s *BidiStream[Req, Res]) CloseSend() error { return s.r.cl.closeSend() }

// Recv returns the next message, as [ServerStream.Recv] does.
func (s *BidiStream[Req, Res]) Recv() (Res, error) { return s.r.recv() }

// All returns an iterator over the messages received, as
// [ServerStream.All] does.
func (s *BidiStream[Req, Res]) All() iter.Seq2[Res, error] { return s.r.all() }

// Header returns the leading metadata received so far.
func (s *BidiStream[Req, Res]) Header() rpc.Metadata {
	md, _ := s.r.cl.metadata()
	return md
}

// Trailer returns the trailing metadata, known once Recv has returned
// io.EOF.
func (s *BidiStream[Req, Res]) Trailer() rpc.Metadata {
	_, md := s.r.cl.metadata()
	return md
}

// Err returns the error that ended the call: nil while it is open and
// after a normal end.
func (s *BidiStream[Req, Res]) Err() error { return s.r.err() }

// Close cancels the call if it is still open and drops any messages not
// yet received, as [ServerStream.Close] does: Recv, Send and Err then
// return [ErrStreamClosed].
func (s *BidiStream[Req, Res]) Close() error {
	s.r.close()
	return nil
}
