package swill_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/internal/wire"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// Every malformed frame of PROTOCOL.md gets ERROR 400 when its seq can be
// read and is dropped otherwise; the connection keeps working after each.
func TestMalformedFrames(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t)
	c := dialWire(t, srv)
	cases := []struct {
		name   string
		frame  []byte
		seq    int64 // -1: dropped, no answer
		reason string
	}{
		{"not MsgPack", unhex("c1"), -1, ""},
		{"empty frame", nil, -1, ""},
		{"not an array", unhex("a3 61 64 64"), -1, ""},
		{"a map", unhex("81 a1 61 01"), -1, ""},
		{"no element", unhex("90"), -1, ""},
		{"fewer than 3 elements, seq readable", unhex("92 05 c0"), 5, "2 elements"},
		{"one element", unhex("91 06"), 6, "1 elements"},
		{"seq not an integer", unhex("93 a1 78 c0 a3 61 64 64"), -1, ""},
		{"seq nil", unhex("93 c0 92 01 02 a3 61 64 64"), -1, ""},
		{"unknown type", unhex("94 07 92 01 02 a3 61 64 64 07"), 7, "type must be"},
		{"nil type", unhex("94 08 92 01 02 a3 61 64 64 c0"), 8, "type must be"},
		{"metadata not a map", unhex("95 09 92 01 02 a3 61 64 64 00 91 01"), 9, "metadata: not a map"},
		{"metadata with an integer key", unhex("95 0a 92 01 02 a3 61 64 64 00 81 01 02"), 10, "keys must be strings"},
		{"metadata with a nil key", unhex("95 0b 92 01 02 a3 61 64 64 00 81 c0 02"), 11, "keys must be strings"},
		{"rpc not a string", unhex("93 0c c0 05"), 12, "rpc is not a string"},
		{"data not MsgPack", unhex("93 0d c1 a3 61 64 64"), 13, "data"},
		{"data truncated", unhex("93 0e 92 01"), 14, "data"},
		{"data declares more than the frame holds", unhex("93 0f dd 7f ff ff ff a3 61 64 64"), 15, "data"},
		{"data nested too deep", append(append(unhex("93 10"), bytes.Repeat([]byte{0x91}, codec.MaxDepth+1)...), unhex("c0 a3 61 64 64")...), 16, "nested deeper"},
	}
	for _, tc := range cases {
		c.sendRaw(tc.frame)
		if tc.seq < 0 {
			c.quiet(30 * time.Millisecond)
		} else {
			r := c.recv()
			assert.Equal(t, tc.seq, r.Seq, tc.name)
			e := r.rpcErr(t)
			assert.Equal(t, rpc.CodeBadRequest, e.Code, tc.name)
			assert.Contains(t, e.Message, tc.reason, tc.name)
			c.quiet(30 * time.Millisecond)
		}
		c.alive()
	}
}

// A text frame closes the connection with 1003; other connections are
// not affected.
func TestTextFrame(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t)
	bystander := dialWire(t, srv)
	c := dialWire(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	require.NoError(t, c.conn.Write(ctx, websocket.MessageText, []byte(`[1, [1, 2], "add"]`)))
	assert.Equal(t, websocket.StatusUnsupportedData, c.closed())
	bystander.alive()
}

func TestUnknownRPC(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t)
	c := dialWire(t, srv)
	for i, name := range []string{"nope", "", "swill.nope", "ADD"} {
		c.msg(int64(i), name, nil)
		e := c.recv().rpcErr(t)
		assert.Equal(t, rpc.CodeNotFound, e.Code)
		assert.Contains(t, e.Message, `"`+name+`"`, "the message names the rpc")
	}
	c.send(9, "nope", wire.TypeMetadata, nil, rpc.Metadata{})
	assert.Equal(t, rpc.CodeNotFound, c.recv().rpcErr(t).Code, "a METADATA frame opening an unknown rpc")
	c.alive()
}

// A payload that does not fit the handler's type is a 400 whose message
// says where it does not fit.
func TestUndecodablePayload(t *testing.T) {
	t.Parallel()
	type inner struct {
		N int `msgpack:"n"`
	}
	type req struct {
		Name  string         `msgpack:"name"`
		Tags  []string       `msgpack:"tags"`
		Inner inner          `msgpack:"inner"`
		Small uint8          `msgpack:"small"`
		Map   map[string]int `msgpack:"map"`
	}
	srv := startServer(t, withDemo(
		swill.Unary("typed", func(ctx context.Context, r req) (string, error) { return r.Name, nil }),
	))
	c := dialWire(t, srv)
	cases := []struct {
		name string
		rpc  string
		data any
		want []string
	}{
		{"a string where an int goes", "add", []any{"a", 2}, []string{`"add"`, "[0]", "want int, got str"}},
		{"too many elements", "add", []int{1, 2, 3}, []string{"want an array of 2 elements, got 3"}},
		{"not an array", "add", map[string]any{"a": 1}, []string{"want array of 2 int, got map"}},
		{"a struct field of the wrong type", "typed", map[string]any{"name": 5}, []string{`field "name"`, "want str, got int"}},
		{"inside a slice", "typed", map[string]any{"tags": []any{"a", 1}}, []string{`"tags"`, "[1]", "want str, got int"}},
		{"inside a nested struct", "typed", map[string]any{"inner": map[string]any{"n": "x"}}, []string{`"inner".n`, "want int, got str"}},
		{"an integer too large", "typed", map[string]any{"small": 300}, []string{"300 does not fit in uint8"}},
		{"a negative unsigned", "typed", map[string]any{"small": -1}, []string{"-1 does not fit in uint8"}},
		{"a map value", "typed", map[string]any{"map": map[string]any{"k": "v"}}, []string{"want int, got str"}},
		{"a struct given as an array", "typed", []any{1}, []string{"want map (req), got array"}},
		{"sleep given a string", "sleep", "ten", []string{"want int, got str"}},
	}
	for i, tc := range cases {
		c.msg(int64(i), tc.rpc, tc.data)
		r := c.recv()
		require.Equal(t, int64(i), r.Seq)
		e := r.rpcErr(t)
		assert.Equal(t, rpc.CodeBadRequest, e.Code, tc.name)
		for _, w := range tc.want {
			assert.Contains(t, e.Message, w, tc.name)
		}
		c.quiet(20 * time.Millisecond)
	}
	c.alive()

	// An undecodable item ends a running client stream with one 400.
	c.msg(100, "sum", 1)
	c.msg(100, "sum", "two")
	e := c.recv().rpcErr(t)
	assert.Equal(t, rpc.CodeBadRequest, e.Code)
	assert.Contains(t, e.Message, "want int, got str")
	c.msg(100, "sum", 3)
	c.end(100, "sum")
	c.quiet(100 * time.Millisecond)
	c.alive()
}

// A panic is a 500 with a generic message; the panic value and stack go
// to the logger, and to the client only in debug mode.
func TestPanic(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	srv := swilltest.StartDemo(t, swill.WithLogger(logger))
	c := dialWire(t, srv)
	c.msg(1, "boom", nil)
	r := c.recv()
	assert.Equal(t, "950182a4636f6465cd01f4a76d657373616765d921416e20696e7465726e616c20736572766572206572726f72206f6363757272656403c0c0", hexString(r.raw), "the reference's bytes")
	assert.Contains(t, logs.String(), "boom")
	assert.Contains(t, logs.String(), "panic")
	c.alive()

	debug := swilltest.StartDemo(t, swill.WithDebug(true))
	d := dialWire(t, debug)
	d.msg(1, "boom", nil)
	e := d.recv().rpcErr(t)
	assert.Equal(t, rpc.CodeInternal, e.Code)
	assert.Contains(t, e.Message, "panic: boom", "debug mode shows the details")
	d.alive()

	// Panics in a stream handler, and after items were sent.
	ps := startServer(t, withDemo(
		swill.ServerStream("panics", func(ctx context.Context, _ any, out chan<- int) error {
			out <- 1
			panic("mid-stream")
		}),
		swill.BidiStream("panics.bidi", func(ctx context.Context, in <-chan int, out chan<- int) error {
			<-in
			panic("bidi")
		}),
		swill.ClientStream("panics.client", func(ctx context.Context, in <-chan int) (int, error) {
			<-in
			panic("client")
		}),
	))
	p := dialWire(t, ps)
	p.msg(1, "panics", nil)
	assert.Equal(t, int64(1), p.recv().int(t))
	assert.Equal(t, rpc.CodeInternal, p.recv().rpcErr(t).Code)
	for i, name := range []string{"panics.bidi", "panics.client"} {
		p.msg(int64(i+2), name, 1)
		r := p.recv()
		assert.Equal(t, int64(i+2), r.Seq)
		assert.Equal(t, rpc.CodeInternal, r.rpcErr(t).Code)
	}
	p.quiet(50 * time.Millisecond)
	p.alive()
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Protocol misuse on an open call: one ERROR 400 ends it, its handler's
// context is cancelled, and nothing follows.
func TestMisuse(t *testing.T) {
	t.Parallel()
	g := newGate()
	srv := startServer(t, withDemo(gateHandlers(g)...))
	c := dialWire(t, srv)
	expect400 := func(seq int64, contains string) {
		t.Helper()
		r := c.recv()
		require.Equal(t, seq, r.Seq)
		e := r.rpcErr(t)
		assert.Equal(t, rpc.CodeBadRequest, e.Code)
		assert.Contains(t, e.Message, contains)
		assert.Equal(t, seq, g.waitCtxDone(t), "the handler's context is cancelled")
		c.quiet(50 * time.Millisecond)
		c.alive()
	}

	c.msg(1, "g.unary", 1)
	g.waitStarted(t)
	c.msg(1, "g.unary", 2)
	expect400(1, "a second MESSAGE")

	c.msg(2, "g.unary", 1)
	g.waitStarted(t)
	c.end(2, "g.unary")
	expect400(2, "END_OF_STREAM")

	c.msg(3, "g.server", 1)
	g.waitStarted(t)
	c.recv()
	c.end(3, "g.server")
	expect400(3, "END_OF_STREAM")

	c.msg(4, "g.client", 1)
	g.waitStarted(t)
	c.send(4, "g.client", wire.TypeMetadata, nil, rpc.Metadata{"late": true})
	expect400(4, "METADATA")

	c.send(5, "g.bidi", wire.TypeMetadata, nil, rpc.Metadata{})
	g.waitStarted(t)
	c.send(5, "g.bidi", wire.TypeMetadata, nil, rpc.Metadata{})
	expect400(5, "METADATA")

	// A malformed frame that names an open call ends that call.
	c.msg(6, "g.bidi", 1)
	g.waitStarted(t)
	c.sendRaw(unhex("95 06 c0 a6 67 2e 62 69 64 69 00 91 01")) // [6, nil, "g.bidi", 0, [1]]
	expect400(6, "metadata: not a map")
}

// Misuse of a call that was opened by METADATA but has not started must
// free its place: with a limit of one call, the next call works.
func TestMisuseBeforeStartFreesTheCall(t *testing.T) {
	t.Parallel()
	srv := swilltest.StartDemo(t, swill.WithLimits(swill.Limits{MaxConcurrentCalls: 1}))
	c := dialWire(t, srv)
	// A call's place is freed when its handler goroutine ends, just after
	// its result goes out: a call opened the moment the previous result
	// arrives may still find the place taken, and is tried again.
	open := func(seq int64) {
		t.Helper()
		for try := 0; ; try++ {
			c.send(seq, "add", wire.TypeMetadata, nil, rpc.Metadata{"k": "v"})
			select {
			case r := <-c.in:
				require.Less(t, try, 50, "the place of the previous call was never freed")
				require.Equal(t, rpc.CodeTooManyRequests, r.rpcErr(t).Code, "% x", r.raw)
				time.Sleep(10 * time.Millisecond) // a poll on the place being freed: 10ms between tries
				continue
			case <-time.After(20 * time.Millisecond):
			}
			return
		}
	}
	next := func(what string) {
		t.Helper()
		c.msg(100, "add", []int{1, 1})
		r := c.recv()
		require.Equal(t, int64(100), r.Seq)
		require.Equal(t, wire.TypeMessage, r.Type, "%s: the call's place was not freed: % x", what, r.raw)
	}

	open(1)
	c.cancel(1, "add")
	c.quiet(20 * time.Millisecond)
	next("CANCEL")

	open(2)
	c.send(2, "add", wire.TypeMetadata, nil, rpc.Metadata{})
	assert.Equal(t, rpc.CodeBadRequest, c.recv().rpcErr(t).Code)
	next("a second METADATA")

	open(3)
	c.end(3, "add")
	assert.Equal(t, rpc.CodeBadRequest, c.recv().rpcErr(t).Code)
	next("END_OF_STREAM")

	open(4)
	c.sendRaw(unhex("95 04 c0 a3 61 64 64 00 91 01")) // [4, nil, "add", 0, [1]]
	assert.Equal(t, rpc.CodeBadRequest, c.recv().rpcErr(t).Code)
	next("a malformed frame")

	open(5)
	c.msg(5, "add", "not a pair")
	assert.Equal(t, rpc.CodeBadRequest, c.recv().rpcErr(t).Code)
	next("an undecodable payload")

	open(6)
	c.msg(6, "add", []int{2, 2})
	assert.Equal(t, int64(4), c.recv().int(t))
	next("a normal call")
}

// FuzzServerFrame feeds arbitrary frames to a server's read path, where
// a panic would take the whole process down: decoding into every shape
// of request type, naming mismatches, misuse of open calls.
func FuzzServerFrame(f *testing.F) {
	type inner struct {
		E string `msgpack:"e"`
	}
	type shapes struct {
		A uint8              `msgpack:"a"`
		B []int16            `msgpack:"b"`
		C map[string]*uint32 `msgpack:"c"`
		D *inner             `msgpack:"d"`
		T time.Time          `msgpack:"t"`
		N codec.None         `msgpack:"n"`
		M map[int8]bool      `msgpack:"m"`
		F [3]float32         `msgpack:"f"`
	}
	srv := swill.NewServer(swill.WithLimits(swill.Limits{MaxStreamItems: 8, MaxConcurrentCalls: 32}))
	require.NoError(f, srv.Register(
		swill.Unary("u.pair", func(ctx context.Context, in [2]int) (int, error) { return in[0] + in[1], nil }),
		swill.Unary("u.shapes", func(ctx context.Context, in shapes) (shapes, error) { return in, nil }),
		swill.Unary("u.any", func(ctx context.Context, in any) (any, error) { return in, nil }),
		swill.ClientStream("c.sum", func(ctx context.Context, in <-chan int) (int, error) {
			total := 0
			for n := range in {
				total += n
			}
			return total, nil
		}),
		swill.BidiStream("b.echo", func(ctx context.Context, in <-chan shapes, out chan<- shapes) error {
			for v := range in {
				select {
				case out <- v:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}),
		swill.ServerStream("s.count", func(ctx context.Context, n uint8, out chan<- uint8) error {
			for i := uint8(0); i < n; i++ {
				select {
				case out <- i:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			return nil
		}),
	))
	fc := newFakeConn()
	srv.ServeConn(fc, nil)
	f.Cleanup(func() { shutdownNow(f, srv) })

	seed := func(seq int64, name string, typ wire.FrameType, data any, md rpc.Metadata) {
		f.Add(requestFrameMD(f, seq, name, typ, data, md))
	}
	seed(1, "u.pair", wire.TypeMessage, []int{1, 2}, nil)
	seed(2, "u.shapes", wire.TypeMessage, map[string]any{"a": 300, "b": []any{1, "x"}, "c": map[string]any{"k": -1}, "d": nil, "t": time.Unix(1, 0), "n": 5, "m": map[int]bool{1: true}, "f": []float64{1, 2, 3}}, nil)
	seed(3, "u.any", wire.TypeMessage, map[string]any{"nested": []any{map[string]any{"x": nil}}}, rpc.Metadata{rpc.TimeoutKey: 1})
	seed(4, "c.sum", wire.TypeMetadata, nil, rpc.Metadata{"k": "v"})
	seed(4, "c.sum", wire.TypeMessage, 5, nil)
	seed(4, "c.sum", wire.TypeEndOfStream, nil, nil)
	seed(5, "b.echo", wire.TypeMessage, map[string]any{"a": 1}, nil)
	seed(5, "b.echo", wire.TypeCancel, nil, nil)
	seed(6, "s.count", wire.TypeMessage, 3, nil)
	seed(6, "s.count", wire.TypeEndOfStream, nil, nil)
	seed(7, "u.pair", wire.TypeMetadata, nil, rpc.Metadata{})
	seed(7, "u.pair", wire.TypeMessage, []any{"a", 1 << 40}, nil)
	f.Add(unhex("95 09 92 01 02 a6 75 2e 70 61 69 72 00 81 01 02"))
	f.Fuzz(func(t *testing.T, frame []byte) {
		fc.deliver(frame)
	})
}

// A handler's plain error, wrapped or not, reaches the client as a 500
// with the generic message only; its text goes to the logger, and to the
// client in debug mode only. A coded error is sent as it is.
func TestInternalErrorText(t *testing.T) {
	t.Parallel()
	const secret = "dial db.internal:5432: password authentication failed"
	handlers := withDemo(
		swill.Unary("leaky", func(ctx context.Context, _ any) (any, error) {
			return nil, fmt.Errorf("load user: %w", errors.New(secret))
		}),
		swill.Unary("coded", func(ctx context.Context, _ any) (any, error) {
			return nil, rpc.Errorf(rpc.CodeNotFound, "no user 7: %w", errors.New(secret))
		}),
	)
	var logs syncBuffer
	srv := startServer(t, handlers, swill.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	c := dialWire(t, srv)
	c.msg(1, "leaky", nil)
	e := c.recv().rpcErr(t)
	assert.Equal(t, rpc.CodeInternal, e.Code)
	assert.Equal(t, "An internal server error occurred", e.Message)
	assert.Nil(t, e.Data)
	assert.Contains(t, logs.String(), secret)
	c.msg(2, "coded", nil)
	e = c.recv().rpcErr(t)
	assert.Equal(t, rpc.CodeNotFound, e.Code)
	assert.Equal(t, "no user 7: "+secret, e.Message, "an rpc.Error's message is the handler's choice")

	debug := startServer(t, handlers, swill.WithDebug(true))
	d := dialWire(t, debug)
	d.msg(1, "leaky", nil)
	e = d.recv().rpcErr(t)
	assert.Equal(t, rpc.CodeInternal, e.Code)
	assert.Contains(t, e.Message, secret, "debug mode shows the details")
}
