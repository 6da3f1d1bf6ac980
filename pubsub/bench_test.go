package pubsub_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"net/http/httptest"

	"github.com/coder/websocket"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// BenchmarkPublish publishes to n subscribers, each on its own loopback
// connection read by a raw client, and waits until every subscriber has
// read the publication. allocs/op is per publication: it must not grow
// with the number of subscribers (the item is encoded once and copied
// into each connection's frame).
func BenchmarkPublish(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			hub, err := pubsub.New()
			if err != nil {
				b.Fatal(err)
			}
			defer hub.Close()
			srv := swilltest.NewServer()
			if err := srv.Mount(hub); err != nil {
				b.Fatal(err)
			}
			s := swilltest.Start(b, srv)
			ctx := context.Background()
			frame, _ := codec.Marshal([]any{1, map[string]any{"channel": "bench"}, rpc.SubscribeRPC})
			var got sync.WaitGroup
			conns := make([]*websocket.Conn, n)
			for i := range conns {
				c, _, err := websocket.Dial(ctx, s.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
				if err != nil {
					b.Fatal(err)
				}
				defer c.CloseNow()
				if err := c.Write(ctx, websocket.MessageBinary, frame); err != nil {
					b.Fatal(err)
				}
				if _, _, err := c.Read(ctx); err != nil { // METADATA: subscribed
					b.Fatal(err)
				}
				conns[i] = c
			}
			var readers sync.WaitGroup
			for _, c := range conns {
				readers.Add(1)
				go func() {
					defer readers.Done()
					for {
						if _, _, err := c.Read(ctx); err != nil {
							return
						}
						got.Done()
					}
				}()
			}
			msg := struct {
				User string `msgpack:"user"`
				Text string `msgpack:"text"`
			}{"ann", "hello, world"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got.Add(n)
				if _, err := hub.Publish(ctx, "bench", msg); err != nil {
					b.Fatal(err)
				}
				got.Wait()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
			for _, c := range conns {
				c.CloseNow()
			}
			readers.Wait()
		})
	}
}

// sinkConn is a transport.Conn that discards what the server writes,
// counting stream items, so that a benchmark measures the server alone.
type sinkConn struct {
	h       transport.Handler
	started chan struct{}
	ready   chan struct{}   // closed by the first frame, the subscription's METADATA
	items   *sync.WaitGroup // done once per item; the 503 of the shutdown is not one
	frames  int
	once    sync.Once
}

func (c *sinkConn) Start(h transport.Handler) { c.h = h; close(c.started) }
func (c *sinkConn) WriteMessage(p []byte) error {
	c.frames++
	switch {
	case c.frames == 1:
		close(c.ready)
	case bytes.HasSuffix(p, []byte{0, 0xc0, 0xc0}): // an item: [seq, item, 0, nil, nil]
		c.items.Done()
	}
	return nil
}
func (c *sinkConn) Flush() error                   { return nil }
func (c *sinkConn) Ping(ctx context.Context) error { return nil }
func (c *sinkConn) Close(code transport.StatusCode, reason string) error {
	c.once.Do(func() { go c.h.HandleClose(transport.ErrClosed) })
	return nil
}
func (c *sinkConn) Subprotocol() string { return rpc.Subprotocol }

// BenchmarkFanOut measures the server's side of a publication to n
// subscribers on in-memory connections that discard what they get:
// allocs/op is per publication, and must not grow with n.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			hub, err := pubsub.New()
			if err != nil {
				b.Fatal(err)
			}
			defer hub.Close()
			srv := swilltest.NewServer()
			if err := srv.Mount(hub); err != nil {
				b.Fatal(err)
			}
			var items sync.WaitGroup
			req := httptest.NewRequest("GET", "/ws", nil)
			frame, _ := codec.Marshal([]any{1, map[string]any{"channel": "bench"}, rpc.SubscribeRPC})
			conns := make([]*sinkConn, n)
			for i := range conns {
				c := &sinkConn{started: make(chan struct{}), ready: make(chan struct{}), items: &items}
				go srv.ServeConn(c, req)
				<-c.started
				conns[i] = c
				c.h.HandleMessage(transport.Binary, frame)
				<-c.ready
			}
			ctx := context.Background()
			msg := struct {
				User string `msgpack:"user"`
				Text string `msgpack:"text"`
			}{"ann", "hello, world"}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				items.Add(n)
				if _, err := hub.Publish(ctx, "bench", msg); err != nil {
					b.Fatal(err)
				}
				items.Wait()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "deliveries/s")
			for _, c := range conns {
				c.Close(transport.StatusNormalClosure, "")
			}
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		})
	}
}
