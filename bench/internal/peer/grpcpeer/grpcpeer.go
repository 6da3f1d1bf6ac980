package grpcpeer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"

	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/peer"
)

func init() {
	encoding.RegisterCodec(codec{})
	peer.Register(peer.Peer{
		Name:        "grpc",
		Server:      "grpc",
		Description: "gRPC-go unary calls, MsgPack codec",
		Order:       10,
		NewServer:   newServer,
		Dial:        dialUnary,
	})
	peer.Register(peer.Peer{
		Name:        "grpc-pipe",
		Server:      "grpc",
		Description: "gRPC-go, each call one message on a long-lived bidirectional stream",
		Order:       11,
		NewServer:   newServer,
		Dial:        dialPipe,
	})
}

// codecName is the content-subtype: requests travel as
// application/grpc+msgpack.
const codecName = "msgpack"

// codec encodes messages with MsgPack, integers in their smallest form as
// swill's codec does.
type codec struct{}

var encPool = sync.Pool{New: func() any {
	b := &encBuf{}
	b.enc = msgpack.NewEncoder(&b.buf)
	b.enc.UseCompactInts(true)
	return b
}}

type encBuf struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
}

func (codec) Marshal(v any) ([]byte, error) {
	b := encPool.Get().(*encBuf)
	defer encPool.Put(b)
	b.buf.Reset()
	if err := b.enc.Encode(v); err != nil {
		return nil, err
	}
	// gRPC keeps the slice: hand it a copy, the buffer is reused.
	return bytes.Clone(b.buf.Bytes()), nil
}

func (codec) Unmarshal(data []byte, v any) error { return msgpack.Unmarshal(data, v) }

func (codec) Name() string { return codecName }

// envelope is one call on the pipe: [seq, payload].
type envelope struct {
	_msgpack struct{} `msgpack:",as_array"`
	Seq      uint64
	P        payload.Payload
}

// service is the handler type of the descriptor; the handlers are plain
// functions, so any value implements it.
type service interface{}

const (
	serviceName = "bench.Echo"
	methodAdd   = "/bench.Echo/Add"
	methodPipe  = "/bench.Echo/Pipe"
	methodItems = "/bench.Echo/Items"
)

var serviceDesc = grpc.ServiceDesc{
	ServiceName: serviceName,
	HandlerType: (*service)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Add", Handler: addHandler},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Pipe", Handler: pipeHandler, ServerStreams: true, ClientStreams: true},
		{StreamName: "Items", Handler: itemsHandler, ServerStreams: true},
	},
	Metadata: "bench.Echo (hand-written)",
}

var (
	pipeDesc  = &serviceDesc.Streams[0]
	itemsDesc = &serviceDesc.Streams[1]
)

func addHandler(_ any, ctx context.Context, dec func(any) error, ic grpc.UnaryServerInterceptor) (any, error) {
	var in payload.Payload
	if err := dec(&in); err != nil {
		return nil, err
	}
	if ic == nil {
		out := payload.Apply(in)
		return &out, nil
	}
	info := &grpc.UnaryServerInfo{FullMethod: methodAdd}
	return ic(ctx, &in, info, func(_ context.Context, req any) (any, error) {
		out := payload.Apply(*req.(*payload.Payload))
		return &out, nil
	})
}

func pipeHandler(_ any, stream grpc.ServerStream) error {
	for {
		var e envelope
		if err := stream.RecvMsg(&e); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		e.P = payload.Apply(e.P)
		if err := stream.SendMsg(&e); err != nil {
			return err
		}
	}
}

func itemsHandler(_ any, stream grpc.ServerStream) error {
	var req payload.StreamRequest
	if err := stream.RecvMsg(&req); err != nil {
		return err
	}
	for i := range req.Count {
		item := payload.StreamItem(&req, i)
		if err := stream.SendMsg(&item); err != nil {
			return err
		}
	}
	return nil
}

type server struct{ gs *grpc.Server }

func newServer() (peer.Server, error) {
	gs := grpc.NewServer()
	gs.RegisterService(&serviceDesc, struct{}{})
	return &server{gs: gs}, nil
}

func (s *server) Serve(ln net.Listener) error {
	if err := s.gs.Serve(ln); !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

func (s *server) Close() error {
	s.gs.Stop()
	return nil
}

// unary is a gRPC client connection; a call is an Invoke.
type unary struct {
	cc *grpc.ClientConn
}

func newConn(addr string) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///"+addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.CallContentSubtype(codecName)),
	)
}

// dialUnary connects and waits until the connection is up, as the other
// peers' dials do.
func dialUnary(ctx context.Context, addr string) (peer.Client, error) {
	cc, err := newConn(addr)
	if err != nil {
		return nil, err
	}
	u := &unary{cc: cc}
	if err := waitReady(ctx, cc); err != nil {
		cc.Close()
		return nil, err
	}
	return u, nil
}

func waitReady(ctx context.Context, cc *grpc.ClientConn) error {
	cc.Connect()
	for {
		s := cc.GetState()
		if s == connectivity.Ready {
			return nil
		}
		if !cc.WaitForStateChange(ctx, s) {
			return fmt.Errorf("grpc: connection not ready: %w", ctx.Err())
		}
	}
}

func (u *unary) Call(ctx context.Context, req *payload.Payload) (payload.Payload, error) {
	var out payload.Payload
	err := u.cc.Invoke(ctx, methodAdd, req, &out)
	return out, err
}

func (u *unary) Stream(ctx context.Context, req *payload.StreamRequest, fn func(int, *payload.Payload) error) error {
	return streamItems(ctx, u.cc, req, fn)
}

func (u *unary) Close() error { return u.cc.Close() }

func streamItems(ctx context.Context, cc *grpc.ClientConn, req *payload.StreamRequest, fn func(int, *payload.Payload) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := cc.NewStream(ctx, itemsDesc, methodItems)
	if err != nil {
		return err
	}
	if err := st.SendMsg(req); err != nil {
		return err
	}
	if err := st.CloseSend(); err != nil {
		return err
	}
	for i := 0; ; i++ {
		var item payload.Payload
		if err := st.RecvMsg(&item); err != nil {
			if errors.Is(err, io.EOF) {
				if i != req.Count {
					return fmt.Errorf("grpc: stream ended after %d of %d items", i, req.Count)
				}
				return nil
			}
			return err
		}
		if err := fn(i, &item); err != nil {
			return err
		}
	}
}

// pipe multiplexes calls over one bidirectional stream: a writer lock
// around SendMsg, a read loop that hands replies to the pending calls.
type pipe struct {
	cc     *grpc.ClientConn
	st     grpc.ClientStream
	cancel context.CancelFunc
	done   chan struct{}

	sendMu sync.Mutex

	mu      sync.Mutex
	seq     uint64
	pending map[uint64]chan result
	err     error
}

type result struct {
	p   payload.Payload
	err error
}

func dialPipe(ctx context.Context, addr string) (peer.Client, error) {
	cc, err := newConn(addr)
	if err != nil {
		return nil, err
	}
	if err := waitReady(ctx, cc); err != nil {
		cc.Close()
		return nil, err
	}
	sctx, cancel := context.WithCancel(context.Background())
	st, err := cc.NewStream(sctx, pipeDesc, methodPipe)
	if err != nil {
		cancel()
		cc.Close()
		return nil, err
	}
	p := &pipe{cc: cc, st: st, cancel: cancel, done: make(chan struct{}), pending: map[uint64]chan result{}}
	go p.readLoop()
	return p, nil
}

var chanPool = sync.Pool{New: func() any { return make(chan result, 1) }}

func (p *pipe) Call(ctx context.Context, req *payload.Payload) (payload.Payload, error) {
	ch := chanPool.Get().(chan result)
	p.mu.Lock()
	if p.err != nil {
		err := p.err
		p.mu.Unlock()
		return payload.Payload{}, err
	}
	p.seq++
	seq := p.seq
	p.pending[seq] = ch
	p.mu.Unlock()

	p.sendMu.Lock()
	err := p.st.SendMsg(&envelope{Seq: seq, P: *req})
	p.sendMu.Unlock()
	if err != nil {
		p.forget(seq)
		return payload.Payload{}, err
	}
	select {
	case r := <-ch:
		chanPool.Put(ch)
		return r.p, r.err
	case <-ctx.Done():
		p.forget(seq)
		return payload.Payload{}, ctx.Err()
	}
}

func (p *pipe) forget(seq uint64) {
	p.mu.Lock()
	delete(p.pending, seq)
	p.mu.Unlock()
}

func (p *pipe) readLoop() {
	defer close(p.done)
	for {
		var e envelope
		if err := p.st.RecvMsg(&e); err != nil {
			p.mu.Lock()
			p.err = fmt.Errorf("grpc: pipe ended: %w", err)
			pending := p.pending
			p.pending = map[uint64]chan result{}
			p.mu.Unlock()
			for _, ch := range pending {
				ch <- result{err: err}
			}
			return
		}
		p.mu.Lock()
		ch := p.pending[e.Seq]
		delete(p.pending, e.Seq)
		p.mu.Unlock()
		if ch != nil {
			ch <- result{p: e.P}
		}
	}
}

// Stream uses the server-streaming method: a pipe carries calls only.
func (p *pipe) Stream(ctx context.Context, req *payload.StreamRequest, fn func(int, *payload.Payload) error) error {
	return streamItems(ctx, p.cc, req, fn)
}

func (p *pipe) Close() error {
	p.sendMu.Lock()
	p.st.CloseSend()
	p.sendMu.Unlock()
	p.cancel()
	<-p.done
	return p.cc.Close()
}
