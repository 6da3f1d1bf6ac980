package rawws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/swillorg/swill-go/bench/internal/payload"
	"github.com/swillorg/swill-go/bench/internal/peer"
)

func init() {
	peer.Register(peer.Peer{
		Name:        "raw",
		Server:      "raw",
		Description: "hand-written coder/websocket, [seq, payload] MsgPack frames, no framework",
		Order:       0,
		NewServer:   func() (peer.Server, error) { return newServer(), nil },
		Dial:        Dial,
	})
}

const readLimit = 1 << 20

type server struct {
	hs *http.Server
}

func newServer() *server {
	s := &server{}
	s.hs = &http.Server{Handler: http.HandlerFunc(s.handle), ReadHeaderTimeout: 10 * time.Second}
	return s
}

func (s *server) Serve(ln net.Listener) error {
	if err := s.hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Close drops every connection: hijacked connections are not tracked by
// the http.Server, but the process ends right after.
func (s *server) Close() error { return s.hs.Close() }

func (s *server) handle(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return
	}
	defer c.CloseNow()
	c.SetReadLimit(readLimit)
	ctx := context.Background()
	var in bytes.Buffer
	var out bytes.Buffer
	rd := bytes.NewReader(nil)
	dec := msgpack.NewDecoder(rd)
	enc := msgpack.NewEncoder(&out)
	enc.UseCompactInts(true)
	write := func(seq uint64, p *payload.Payload) error {
		out.Reset()
		if err := encodeFrame(enc, seq, p); err != nil {
			return err
		}
		return c.Write(ctx, websocket.MessageBinary, out.Bytes())
	}
	for {
		_, r, err := c.Reader(ctx)
		if err != nil {
			return
		}
		in.Reset()
		if _, err := in.ReadFrom(r); err != nil {
			return
		}
		rd.Reset(in.Bytes())
		dec.Reset(rd)
		n, err := dec.DecodeArrayLen()
		if err != nil || (n != 2 && n != 3) {
			return
		}
		seq, err := dec.DecodeUint64()
		if err != nil {
			return
		}
		var p payload.Payload
		if err := dec.Decode(&p); err != nil {
			return
		}
		if n == 2 {
			reply := payload.Apply(p)
			if write(seq, &reply) != nil {
				return
			}
			continue
		}
		count, err := dec.DecodeInt()
		if err != nil {
			return
		}
		req := payload.StreamRequest{Count: count, Item: p}
		for i := range count {
			item := payload.StreamItem(&req, i)
			if write(seq, &item) != nil {
				return
			}
		}
	}
}

func encodeFrame(enc *msgpack.Encoder, seq uint64, p *payload.Payload) error {
	if err := enc.EncodeArrayLen(2); err != nil {
		return err
	}
	if err := enc.EncodeUint(seq); err != nil {
		return err
	}
	return enc.Encode(p)
}

// client is one connection; calls wait in pending until the read loop
// hands them their reply.
type client struct {
	c    *websocket.Conn
	done chan struct{}

	mu      sync.Mutex
	seq     uint64
	pending map[uint64]*waiter
	err     error
}

// waiter is a call or a stream waiting for frames.
type waiter struct {
	reply chan result // calls: one reply
	// streams: the read loop runs onItem for each item, then closes end.
	onItem func(p *payload.Payload) error
	end    chan error
}

type result struct {
	p   payload.Payload
	err error
}

// Dial connects to the raw server at addr.
func Dial(ctx context.Context, addr string) (peer.Client, error) {
	c, _, err := websocket.Dial(ctx, "ws://"+addr+"/", &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(readLimit)
	cl := &client{c: c, done: make(chan struct{}), pending: map[uint64]*waiter{}}
	go cl.readLoop()
	return cl, nil
}

var bufPool = sync.Pool{New: func() any {
	b := &encBuf{}
	b.enc = msgpack.NewEncoder(&b.buf)
	b.enc.UseCompactInts(true)
	return b
}}

type encBuf struct {
	buf bytes.Buffer
	enc *msgpack.Encoder
}

var waiterPool = sync.Pool{New: func() any { return &waiter{reply: make(chan result, 1)} }}

func (c *client) open(w *waiter) (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	c.seq++
	c.pending[c.seq] = w
	return c.seq, nil
}

func (c *client) forget(seq uint64) {
	c.mu.Lock()
	delete(c.pending, seq)
	c.mu.Unlock()
}

func (c *client) send(ctx context.Context, seq uint64, p *payload.Payload, count int) error {
	b := bufPool.Get().(*encBuf)
	defer bufPool.Put(b)
	b.buf.Reset()
	n := 2
	if count > 0 {
		n = 3
	}
	if err := b.enc.EncodeArrayLen(n); err != nil {
		return err
	}
	if err := b.enc.EncodeUint(seq); err != nil {
		return err
	}
	if err := b.enc.Encode(p); err != nil {
		return err
	}
	if count > 0 {
		if err := b.enc.EncodeInt(int64(count)); err != nil {
			return err
		}
	}
	return c.c.Write(ctx, websocket.MessageBinary, b.buf.Bytes())
}

func (c *client) Call(ctx context.Context, req *payload.Payload) (payload.Payload, error) {
	w := waiterPool.Get().(*waiter)
	seq, err := c.open(w)
	if err != nil {
		waiterPool.Put(w)
		return payload.Payload{}, err
	}
	if err := c.send(ctx, seq, req, 0); err != nil {
		c.forget(seq)
		return payload.Payload{}, err
	}
	select {
	case r := <-w.reply:
		waiterPool.Put(w)
		return r.p, r.err
	case <-ctx.Done():
		// The reply may still come; the waiter is left to the collector.
		c.forget(seq)
		return payload.Payload{}, ctx.Err()
	}
}

func (c *client) Stream(ctx context.Context, req *payload.StreamRequest, fn func(int, *payload.Payload) error) error {
	if req.Count <= 0 {
		return errors.New("rawws: a stream needs a positive count")
	}
	i := 0
	w := &waiter{end: make(chan error, 1)}
	w.onItem = func(p *payload.Payload) error {
		if err := fn(i, p); err != nil {
			return err
		}
		i++
		if i == req.Count {
			return errStreamDone
		}
		return nil
	}
	seq, err := c.open(w)
	if err != nil {
		return err
	}
	if err := c.send(ctx, seq, &req.Item, req.Count); err != nil {
		c.forget(seq)
		return err
	}
	select {
	case err := <-w.end:
		return err
	case <-ctx.Done():
		c.forget(seq)
		return ctx.Err()
	}
}

var errStreamDone = errors.New("stream done")

func (c *client) readLoop() {
	defer close(c.done)
	ctx := context.Background()
	var in bytes.Buffer
	rd := bytes.NewReader(nil)
	dec := msgpack.NewDecoder(rd)
	fail := func(err error) {
		c.mu.Lock()
		c.err = err
		pending := c.pending
		c.pending = map[uint64]*waiter{}
		c.mu.Unlock()
		for _, w := range pending {
			w.finish(result{err: err})
		}
	}
	for {
		_, r, err := c.c.Reader(ctx)
		if err == nil {
			in.Reset()
			_, err = in.ReadFrom(r)
		}
		if err != nil {
			fail(fmt.Errorf("rawws: connection lost: %w", err))
			return
		}
		rd.Reset(in.Bytes())
		dec.Reset(rd)
		var p payload.Payload
		seq, err := decodeReply(dec, &p)
		if err != nil {
			fail(fmt.Errorf("rawws: bad frame: %w", err))
			c.c.CloseNow()
			return
		}
		c.mu.Lock()
		w := c.pending[seq]
		if w != nil && w.onItem == nil {
			delete(c.pending, seq)
		}
		c.mu.Unlock()
		if w == nil {
			continue // cancelled call
		}
		if w.onItem == nil {
			w.reply <- result{p: p}
			continue
		}
		if err := w.onItem(&p); err != nil {
			c.forget(seq)
			if errors.Is(err, errStreamDone) {
				err = nil
			}
			w.end <- err
		}
	}
}

func (w *waiter) finish(r result) {
	if w.onItem == nil {
		w.reply <- r
		return
	}
	w.end <- r.err
}

func decodeReply(dec *msgpack.Decoder, p *payload.Payload) (uint64, error) {
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return 0, err
	}
	if n != 2 {
		return 0, fmt.Errorf("array of %d elements", n)
	}
	seq, err := dec.DecodeUint64()
	if err != nil {
		return 0, err
	}
	return seq, dec.Decode(p)
}

func (c *client) Close() error {
	err := c.c.Close(websocket.StatusNormalClosure, "")
	if err != nil {
		c.c.CloseNow()
	}
	<-c.done
	return nil
}
