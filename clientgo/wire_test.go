package clientgo

import (
	"context"
	"errors"
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/memtransport"
)

// These tests play the server by hand over an in-memory pipe, to check
// the frames the client writes and how it takes frames a real server
// would rarely send.

const wait = 5 * time.Second

type frame struct {
	Seq  int64
	Data any
	RPC  string
	Type wire.FrameType
	MD   rpc.Metadata
}

// fakeServer is the server end of a pipe, driven by the test.
type fakeServer struct {
	t      *testing.T
	tc     transport.Conn
	frames chan frame
	closed chan error
}

func (s *fakeServer) HandleMessage(_ transport.MessageType, data []byte) {
	var r wire.Request
	if err := wire.ParseRequest(data, &r); err != nil {
		s.t.Errorf("the client sent a malformed frame % x: %v", data, err)
		return
	}
	f := frame{Seq: r.Seq, RPC: string(r.RPC), Type: r.Type, MD: r.Metadata}
	if err := codec.Unmarshal(r.Data, &f.Data); err != nil {
		s.t.Errorf("undecodable payload: %v", err)
	}
	s.frames <- f
}

func (s *fakeServer) HandleClose(err error) { s.closed <- err }

// recv returns the next frame the client sent.
func (s *fakeServer) recv() frame {
	s.t.Helper()
	select {
	case f := <-s.frames:
		return f
	case <-time.After(wait):
		s.t.Fatal("the client sent nothing")
		return frame{}
	}
}

// send writes raw frame bytes to the client.
func (s *fakeServer) send(b []byte) {
	s.t.Helper()
	require.NoError(s.t, s.tc.WriteMessage(b))
	require.NoError(s.t, s.tc.Flush())
}

// respond writes a response frame.
func (s *fakeServer) respond(seq int64, typ wire.FrameType, data any, leading, trailing rpc.Metadata) {
	s.t.Helper()
	b := wire.GetBuffer()
	defer wire.PutBuffer(b)
	enc := wire.GetEncoder()
	defer wire.PutEncoder(enc)
	require.NoError(s.t, enc.Response(b, seq, typ, data, leading, trailing))
	s.send(b.B)
}

type pipeDialer struct{ ends chan transport.Conn }

func (d pipeDialer) Dial(ctx context.Context, url string, opts *transport.DialOptions) (transport.Conn, error) {
	client, server := memtransport.Pipe(rpc.Subprotocol)
	d.ends <- server
	return client, nil
}

// startFake returns a client connected to a fake server.
func startFake(t *testing.T, opts ...Option) (*Client, *fakeServer) {
	t.Helper()
	d := pipeDialer{ends: make(chan transport.Conn, 1)}
	c, err := Dial(context.Background(), "mem://fake", append([]Option{WithDialer(d), WithoutReconnect()}, opts...)...)
	require.NoError(t, err)
	s := &fakeServer{t: t, tc: <-d.ends, frames: make(chan frame, 1024), closed: make(chan error, 1)}
	s.tc.Start(s)
	t.Cleanup(func() {
		c.Close()
		s.tc.Close(transport.StatusNormalClosure, "")
		<-s.closed
	})
	return c, s
}

func TestWireUnary(t *testing.T) {
	c, s := startFake(t)
	res := make(chan any, 1)
	go func() {
		v, err := Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2}, WithMetadata(rpc.Metadata{"k": "v"}))
		if err != nil {
			res <- err
			return
		}
		res <- v
	}()
	f := s.recv()
	assert.Equal(t, "add", f.RPC)
	assert.Equal(t, wire.TypeMessage, f.Type)
	assert.Equal(t, []any{int8(1), int8(2)}, f.Data)
	assert.Equal(t, rpc.Metadata{"k": "v"}, f.MD)
	assert.NotContains(t, f.MD, rpc.TimeoutKey, "no deadline, no timeout metadata")
	// The shortest response the protocol allows: [seq, data].
	s.send([]byte{0x92, byte(f.Seq), 0x03})
	assert.Equal(t, 3, <-res)
}

func TestWireCompactRequest(t *testing.T) {
	c, s := startFake(t)
	go Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
	f := s.recv()
	require.Equal(t, int64(1), f.Seq, "the first call has seq 1")
	// Replay the exact bytes: the reference client's compact form.
	b := wire.GetBuffer()
	enc := wire.GetEncoder()
	require.NoError(t, enc.Request(b, 1, "add", wire.TypeMessage, [2]int{1, 2}, nil))
	wire.PutEncoder(enc)
	assert.Equal(t, []byte{0x93, 0x01, 0x92, 0x01, 0x02, 0xa3, 'a', 'd', 'd'}, b.B)
	wire.PutBuffer(b)
	s.respond(f.Seq, wire.TypeMessage, 3, nil, nil)
}

func TestWireSeqNeverReused(t *testing.T) {
	c, s := startFake(t)
	const n = 200
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() {
			_, err := Call[int, int](context.Background(), c, "echo", i)
			errs <- err
		}()
	}
	seen := map[int64]bool{}
	var seqs []int64
	for i := 0; i < n; i++ {
		f := s.recv()
		require.False(t, seen[f.Seq], "seq %d used twice while open", f.Seq)
		seen[f.Seq] = true
		seqs = append(seqs, f.Seq)
	}
	// Answer in reverse order: replies are matched by seq, not order.
	for i := len(seqs) - 1; i >= 0; i-- {
		s.respond(seqs[i], wire.TypeMessage, 0, nil, nil)
	}
	for i := 0; i < n; i++ {
		require.NoError(t, <-errs)
	}
}

func TestWireDeadlineMetadata(t *testing.T) {
	c, s := startFake(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := Call[int, int](ctx, c, "sleep", 1)
		done <- err
	}()
	f := s.recv()
	var ms int
	require.NoError(t, codec.Unmarshal(mustMarshal(t, f.MD[rpc.TimeoutKey]), &ms), "an integer of milliseconds, got %T", f.MD[rpc.TimeoutKey])
	assert.InDelta(t, 2000, ms, 100)
	assert.LessOrEqual(t, ms, 2000)
	// Before the deadline, a 408 stays the server's error.
	s.respond(f.Seq, wire.TypeError, map[string]any{"code": 408, "message": "deadline exceeded"}, nil, nil)
	err := <-done
	assert.Equal(t, rpc.CodeTimeout, rpc.CodeOf(err))
	assert.True(t, rpc.IsWireError(err))

	// After it, the server's 408 reads as the context's error, whichever
	// of the two timers won.
	past, cancelPast := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancelPast()
	cl := &call{ctx: past}
	assert.ErrorIs(t, cl.userErr(rpc.NewWireError(rpc.CodeTimeout, "deadline exceeded", nil)), context.DeadlineExceeded)
	other := rpc.NewWireError(rpc.CodeInternal, "x", nil)
	assert.Equal(t, other, cl.userErr(other), "other errors are kept")
	local := rpc.NewError(rpc.CodeTimeout, "local")
	assert.Equal(t, local, cl.userErr(local), "only the server's 408")
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := codec.Marshal(v)
	require.NoError(t, err)
	return b
}

func TestWireCancel(t *testing.T) {
	c, s := startFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Call[int, int](ctx, c, "sleep", 1)
		done <- err
	}()
	f := s.recv()
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled)
	cf := s.recv()
	assert.Equal(t, frame{Seq: f.Seq, RPC: "sleep", Type: wire.TypeCancel}, cf)
	// A late result is dropped; the connection goes on.
	s.respond(f.Seq, wire.TypeMessage, 1, nil, nil)
	go Call[int, int](context.Background(), c, "sleep", 2)
	f2 := s.recv()
	assert.Greater(t, f2.Seq, f.Seq)
	s.respond(f2.Seq, wire.TypeMessage, 2, nil, nil)
}

func TestWireStreamOpening(t *testing.T) {
	c, s := startFake(t)
	cs, err := CallClientStream[int, int](context.Background(), c, "sum")
	require.NoError(t, err)
	f := s.recv()
	assert.Equal(t, frame{Seq: f.Seq, RPC: "sum", Type: wire.TypeMetadata, MD: rpc.Metadata{}}, f,
		"a client stream opens with METADATA so that the server starts it at once")
	require.NoError(t, cs.Send(5))
	assert.Equal(t, frame{Seq: f.Seq, RPC: "sum", Type: wire.TypeMessage, Data: int8(5)}, s.recv())
	done := make(chan int, 1)
	go func() {
		v, _ := cs.CloseAndReceive()
		done <- v
	}()
	assert.Equal(t, frame{Seq: f.Seq, RPC: "sum", Type: wire.TypeEndOfStream}, s.recv())
	s.respond(f.Seq, wire.TypeMessage, 5, nil, nil)
	assert.Equal(t, 5, <-done)
}

func TestWireServerEndsBidiEarly(t *testing.T) {
	c, s := startFake(t)
	bs, err := CallBidiStream[int, int](context.Background(), c, "echo")
	require.NoError(t, err)
	f := s.recv()
	s.respond(f.Seq, wire.TypeError, map[string]any{"code": 429, "message": "too many"}, nil, nil)
	_, err = bs.Recv()
	assert.Equal(t, rpc.Code(429), rpc.CodeOf(err))
	// The client's side was still open: a CANCEL closes whatever a message
	// sent meanwhile might have opened on the server.
	assert.Equal(t, frame{Seq: f.Seq, RPC: "echo", Type: wire.TypeCancel}, s.recv())
	assert.Equal(t, rpc.Code(429), rpc.CodeOf(bs.Send(1)), "Send reports the call's error")
	select {
	case extra := <-s.frames:
		t.Fatalf("frame after the call ended: %+v", extra)
	case <-time.After(20 * time.Millisecond):
	}
}

func TestWireStreamBufferBound(t *testing.T) {
	c, s := startFake(t, WithStreamBuffer(4, 0), WithSlowConsumerTimeout(-1))
	ss, err := CallServerStream[int, int](context.Background(), c, "flood", 0)
	require.NoError(t, err)
	f := s.recv()
	for i := 0; i < 4; i++ {
		s.respond(f.Seq, wire.TypeMessage, i, nil, nil)
	}
	require.Eventually(t, func() bool { n, _ := ss.r.cl.buffered(); return n == 4 }, wait, time.Millisecond)
	s.respond(f.Seq, wire.TypeMessage, 4, nil, nil)
	assert.Equal(t, frame{Seq: f.Seq, RPC: "flood", Type: wire.TypeCancel}, s.recv(), "the fifth item cancels the stream")
	n, size := ss.r.cl.buffered()
	assert.Equal(t, 0, n, "the buffer is released at once")
	assert.Equal(t, 0, size)
	for i := 5; i < 100; i++ {
		s.respond(f.Seq, wire.TypeMessage, i, nil, nil) // dropped
	}
	_, err = ss.Recv()
	assert.ErrorIs(t, err, ErrSlowConsumer)
}

func TestWireStreamByteBound(t *testing.T) {
	c, s := startFake(t, WithStreamBuffer(1000, 100), WithSlowConsumerTimeout(-1))
	ss, err := CallServerStream[int, string](context.Background(), c, "big", 0)
	require.NoError(t, err)
	f := s.recv()
	big := string(make([]byte, 150))
	s.respond(f.Seq, wire.TypeMessage, big, nil, nil) // alone, over the bound: accepted
	s.respond(f.Seq, wire.TypeMessage, "x", nil, nil) // would exceed it
	assert.Equal(t, wire.TypeCancel, s.recv().Type)
	_, err = ss.Recv()
	assert.ErrorIs(t, err, ErrSlowConsumer)
}

// The whole test runs in a synctest bubble: every goroutine of the client
// and of the fake server is blocked once synctest.Wait returns, so
// "nothing more happened" is a fact rather than a guess after a sleep.
func TestWireFullBufferWaitsForTheConsumer(t *testing.T) {
	synctest.Test(t, testWireFullBufferWaitsForTheConsumer)
}

func testWireFullBufferWaitsForTheConsumer(t *testing.T) {
	c, s := startFake(t, WithStreamBuffer(4, 0), WithSlowConsumerTimeout(time.Minute))
	ss, err := CallServerStream[int, int](context.Background(), c, "n", 0)
	require.NoError(t, err)
	f := s.recv()
	for i := 0; i < 6; i++ {
		s.respond(f.Seq, wire.TypeMessage, i, nil, nil)
	}
	s.respond(f.Seq, wire.TypeEndOfStream, nil, nil, nil)
	// The reader holds the fifth item until the consumer makes room; the
	// buffer never holds more than four.
	synctest.Wait()
	n, _ := ss.r.cl.buffered()
	assert.Equal(t, 4, n)
	var got []int
	for v, err := range ss.All() {
		require.NoError(t, err)
		n, _ := ss.r.cl.buffered()
		assert.LessOrEqual(t, n, 4)
		got = append(got, v)
	}
	assert.Equal(t, []int{0, 1, 2, 3, 4, 5}, got)
	select {
	case extra := <-s.frames:
		t.Fatalf("unexpected frame %+v: nothing was cancelled", extra)
	default:
	}
}

func TestWireWaitingReaderReleasedByClose(t *testing.T) {
	c, s := startFake(t, WithStreamBuffer(1, 0), WithSlowConsumerTimeout(time.Hour))
	ss, err := CallServerStream[int, int](context.Background(), c, "n", 0)
	require.NoError(t, err)
	f := s.recv()
	s.respond(f.Seq, wire.TypeMessage, 0, nil, nil)
	s.respond(f.Seq, wire.TypeMessage, 1, nil, nil) // the reader waits on this one
	require.Eventually(t, func() bool { n, _ := ss.r.cl.buffered(); return n == 1 }, wait, time.Millisecond)
	done := make(chan struct{})
	go func() {
		c.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(wait):
		t.Fatal("Close hangs while the reader waits for a consumer")
	}
	_, err = ss.Recv()
	require.NoError(t, err, "the item buffered before the close")
	_, err = ss.Recv()
	assert.ErrorIs(t, err, ErrClosed)
}

func TestWireItemsBeforeErrorAreDelivered(t *testing.T) {
	c, s := startFake(t)
	ss, err := CallServerStream[int, int](context.Background(), c, "n", 0)
	require.NoError(t, err)
	f := s.recv()
	s.respond(f.Seq, wire.TypeMetadata, nil, rpc.Metadata{"a": "b"}, nil)
	s.respond(f.Seq, wire.TypeMessage, 1, nil, nil)
	s.respond(f.Seq, wire.TypeMessage, 2, nil, nil)
	s.respond(f.Seq, wire.TypeError, map[string]any{"code": 500, "message": "oops", "data": []int{1}}, nil, nil)
	var got []int
	for v, err := range ss.All() {
		if err != nil {
			var e *rpc.Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, rpc.CodeInternal, e.Code)
			assert.Equal(t, "oops", e.Message)
			assert.Equal(t, []any{int8(1)}, e.Data)
			break
		}
		got = append(got, v)
	}
	assert.Equal(t, []int{1, 2}, got)
	assert.Equal(t, rpc.Metadata{"a": "b"}, ss.Header())
	assert.Equal(t, rpc.CodeInternal, rpc.CodeOf(ss.Err()))
}

func TestWireProtocolViolations(t *testing.T) {
	t.Run("END_OF_STREAM for a unary call", func(t *testing.T) {
		c, s := startFake(t)
		done := make(chan error, 1)
		go func() {
			_, err := Call[int, int](context.Background(), c, "add", 1)
			done <- err
		}()
		f := s.recv()
		s.respond(f.Seq, wire.TypeEndOfStream, nil, nil, nil)
		err := <-done
		var pe *protocolError
		assert.ErrorAs(t, err, &pe)
		assert.False(t, rpc.IsWireError(err))
		assert.Equal(t, wire.TypeCancel, s.recv().Type)
	})
	t.Run("undecodable ERROR", func(t *testing.T) {
		c, s := startFake(t)
		done := make(chan error, 1)
		go func() {
			_, err := Call[int, int](context.Background(), c, "add", 1)
			done <- err
		}()
		f := s.recv()
		s.respond(f.Seq, wire.TypeError, "not a map", nil, nil)
		var pe *protocolError
		assert.ErrorAs(t, <-done, &pe)
	})
	t.Run("malformed frames", func(t *testing.T) {
		c, s := startFake(t)
		done := make(chan error, 1)
		go func() {
			_, err := Call[int, int](context.Background(), c, "add", 1)
			done <- err
		}()
		f := s.recv()
		s.send([]byte{0xc1})                          // not MsgPack: dropped
		s.send([]byte{0x91, 0x01})                    // one element: dropped
		s.respond(999, wire.TypeMessage, 1, nil, nil) // no such call: dropped
		s.send([]byte{0x93, byte(f.Seq), 0x01, 0x09}) // bad type: fails the call
		var pe *protocolError
		assert.ErrorAs(t, <-done, &pe)
		go func() {
			v, err := Call[int, int](context.Background(), c, "add", 1)
			if err == nil && v != 7 {
				err = errors.New("wrong result")
			}
			done <- err
		}()
		f = s.recv()
		for f.Type == wire.TypeCancel {
			f = s.recv()
		}
		s.respond(f.Seq, wire.TypeMessage, 7, nil, nil)
		assert.NoError(t, <-done, "the connection still works")
	})
}

func TestWireHeaderMapNotShared(t *testing.T) {
	c, s := startFake(t)
	ss, err := CallServerStream[int, int](context.Background(), c, "n", 0)
	require.NoError(t, err)
	f := s.recv()
	s.respond(f.Seq, wire.TypeMetadata, nil, rpc.Metadata{"a": 1}, nil)
	s.respond(f.Seq, wire.TypeMessage, 1, rpc.Metadata{"b": 2}, nil)
	_, err = ss.Recv()
	require.NoError(t, err)
	h := ss.Header()
	h["mine"] = true
	s.respond(f.Seq, wire.TypeEndOfStream, nil, nil, rpc.Metadata{"t": 3})
	_, err = ss.Recv()
	require.Equal(t, io.EOF, err)
	assert.EqualValues(t, 1, ss.Header()["a"])
	assert.EqualValues(t, 2, ss.Header()["b"])
	assert.EqualValues(t, 3, ss.Trailer()["t"])
}

func TestWireTextFrameClosesTheConnection(t *testing.T) {
	c, s := startFake(t)
	done := make(chan error, 1)
	go func() {
		_, err := Call[int, int](context.Background(), c, "add", 1)
		done <- err
	}()
	s.recv()
	require.NoError(t, memtransport.WriteText(s.tc, []byte("hello")))
	assert.ErrorIs(t, <-done, ErrConnectionLost)
	err := <-s.closed
	assert.Equal(t, transport.StatusUnsupportedData, transport.CloseStatus(err))
	s.closed <- err // for the cleanup
}

func TestReconnectPolicyDelay(t *testing.T) {
	t.Parallel()
	p := ReconnectPolicy{InitialDelay: 100 * time.Millisecond, MaxDelay: time.Second, Jitter: -1}.withDefaults()
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for n, w := range want {
		assert.Equal(t, w*time.Millisecond, p.delay(n), "attempt %d", n)
	}
	assert.Equal(t, time.Second, p.delay(1000), "no overflow after many attempts")

	j := ReconnectPolicy{InitialDelay: 100 * time.Millisecond, Jitter: 0.5}.withDefaults()
	seen := map[time.Duration]bool{}
	for i := 0; i < 200; i++ {
		d := j.delay(0)
		assert.GreaterOrEqual(t, d, 50*time.Millisecond)
		assert.LessOrEqual(t, d, 150*time.Millisecond)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 10, "the delay is spread")

	def := ReconnectPolicy{}.withDefaults()
	assert.Equal(t, ReconnectPolicy{InitialDelay: 100 * time.Millisecond, MaxDelay: 10 * time.Second, Multiplier: 2, Jitter: 0.2}, def)
}
