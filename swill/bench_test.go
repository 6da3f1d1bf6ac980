package swill_test

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
)

// benchServer serves the demo on a fakeConn whose every written message
// is signalled on written: the server's side of a round trip, with no
// network. Calls run on workers, as on a transport that cannot release
// its reader.
func benchServer(b *testing.B, opts ...swill.Option) (*swill.Server, *fakeConn) {
	b.Helper()
	fc := newFakeConn()
	return serveBench(b, fc, opts...), fc
}

// serveBench serves the demo on tc, a fakeConn or an inlineConn, and
// signals each message it writes on the fakeConn's written.
func serveBench(b *testing.B, tc transport.Conn, opts ...swill.Option) *swill.Server {
	b.Helper()
	srv := swill.NewServer(opts...)
	if err := demosvc.Register(srv); err != nil {
		b.Fatal(err)
	}
	fc := fakeOf(tc)
	fc.written = make(chan struct{}, 1024)
	srv.ServeConn(tc, nil)
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return srv
}

func fakeOf(tc transport.Conn) *fakeConn {
	if ic, ok := tc.(inlineConn); ok {
		return ic.fakeConn
	}
	return tc.(*fakeConn)
}

// inlineConn is a fakeConn that can release its reader, as the real
// transports do, so that unary calls run inline. The benchmark is its
// reader: it delivers a frame, and the server writes the reply from
// there, leaving the flush to the transport. Nothing needs handing over
// on a release, since the benchmark's calls return at once.
type inlineConn struct{ *fakeConn }

func (inlineConn) ReleaseReader() {}

// benchUnary sends one add call at a time through deliver and waits for
// each reply.
func benchUnary(b *testing.B, deliver func([]byte), written <-chan struct{}) {
	frame := addFrame()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		setSeq(frame, i)
		deliver(frame)
		<-written
	}
}

// addFrame returns [seq, [1, 2], "add"] with seq written as a uint32, so
// that setSeq can change it in place.
func addFrame() []byte {
	return []byte{0x93, 0xce, 0, 0, 0, 0, 0x92, 0x01, 0x02, 0xa3, 'a', 'd', 'd'}
}

func setSeq(frame []byte, seq int) { binary.BigEndian.PutUint32(frame[2:6], uint32(seq)) }

// BenchmarkServerUnary is the server's hot path for one unary call:
// decode the request frame, dispatch it to the handler's goroutine,
// encode the response and hand it to the transport. Allocations count
// every goroutine, so allocs/op is the server's cost per round trip.
func BenchmarkServerUnary(b *testing.B) {
	_, fc := benchServer(b)
	benchUnary(b, fc.deliver, fc.written)
}

// BenchmarkServerUnaryInline is BenchmarkServerUnary on a transport that
// can release its reader: the call runs on the goroutine that delivers
// its request, which writes its reply.
func BenchmarkServerUnaryInline(b *testing.B) {
	ic := inlineConn{newFakeConn()}
	serveBench(b, ic)
	benchUnary(b, ic.deliver, ic.written)
}

// BenchmarkServerUnaryIntercepted is BenchmarkServerUnary with one
// interceptor around the handler.
func BenchmarkServerUnaryIntercepted(b *testing.B) {
	pass := swill.InterceptorFunc(func(ctx context.Context, call *swill.Call, next func(context.Context) error) error {
		return next(ctx)
	})
	_, fc := benchServer(b, swill.WithInterceptors(pass))
	benchUnary(b, fc.deliver, fc.written)
}

// BenchmarkServerUnaryPipelined keeps 64 calls in flight on the
// connection, as a busy client does.
func BenchmarkServerUnaryPipelined(b *testing.B) {
	_, fc := benchServer(b)
	frame := addFrame()
	const depth = 64
	b.ReportAllocs()
	b.ResetTimer()
	inflight := 0
	for i := 0; i < b.N; i++ {
		if inflight == depth {
			<-fc.written
			inflight--
		}
		setSeq(frame, i)
		fc.deliver(frame)
		inflight++
	}
	for ; inflight > 0; inflight-- {
		<-fc.written
	}
}

// BenchmarkServerStreamItem is the cost of one server-stream item: a
// countdown of 100 items per call, reported per item.
func BenchmarkServerStreamItem(b *testing.B) {
	_, fc := benchServer(b)
	const items = 100
	frame := []byte{0x93, 0xce, 0, 0, 0, 0, items, 0xa9, 'c', 'o', 'u', 'n', 't', 'd', 'o', 'w', 'n'}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += items {
		setSeq(frame, i)
		fc.deliver(frame)
		for j := 0; j <= items; j++ { // the items and END_OF_STREAM
			<-fc.written
		}
	}
}

// BenchmarkLoopbackUnary is a whole round trip over a loopback
// WebSocket, client included: for orientation, not for the allocation
// target (the raw test client allocates per read).
func BenchmarkLoopbackUnary(b *testing.B) {
	srv := swilltest.StartDemo(b)
	c := dialWire(b, srv)
	frame := addFrame()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		setSeq(frame, i)
		c.sendRaw(frame)
		c.recv()
	}
}

// Check that the benchmark's frames are what they claim.
func TestBenchFrames(t *testing.T) {
	t.Parallel()
	frame := addFrame()
	setSeq(frame, 70000)
	var r wire.Request
	if err := wire.ParseRequest(frame, &r); err != nil || r.Seq != 70000 || string(r.RPC) != "add" {
		t.Fatalf("%v %+v", err, r)
	}
	srv := swill.NewServer()
	if err := demosvc.Register(srv); err != nil {
		t.Fatal(err)
	}
	defer shutdownNow(t, srv)
	fc := newFakeConn()
	fc.keep = true
	fc.written = make(chan struct{}, 8)
	srv.ServeConn(fc, nil)
	fc.deliver(frame)
	<-fc.written
	if got := fc.received()[0]; hexString(got) != "95ce0001117003"+"00c0c0" {
		t.Fatalf("% x", got)
	}
	var _ transport.Conn = fc
}
