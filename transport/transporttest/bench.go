package transporttest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/swillorg/swill-go/transport"
)

// benchPair connects a dialed and an accepted end in this process.
type benchPair struct {
	client, server transport.Conn
	stop           func()
}

type funcHandler struct {
	msg    func(data []byte)
	closed chan struct{}
}

func (h *funcHandler) HandleMessage(_ transport.MessageType, data []byte) { h.msg(data) }
func (h *funcHandler) HandleClose(error)                                  { close(h.closed) }

func newBenchPair(b *testing.B, f Factory, onServer, onClient func(data []byte)) *benchPair {
	b.Helper()
	acc, dialer := f(b)
	accepted := make(chan transport.Conn, 1)
	sh := &funcHandler{msg: onServer, closed: make(chan struct{})}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := acc.Accept(w, r, &transport.AcceptOptions{Subprotocols: serverProtocols})
		if err != nil {
			return
		}
		c.Start(sh)
		accepted <- c
	}))
	c, err := dialer.Dial(context.Background(), "ws"+strings.TrimPrefix(hs.URL, "http"), &transport.DialOptions{Subprotocols: []string{preferred}})
	if err != nil {
		b.Fatal(err)
	}
	ch := &funcHandler{msg: onClient, closed: make(chan struct{})}
	c.Start(ch)
	p := &benchPair{client: c, server: <-accepted}
	p.stop = func() {
		p.client.Close(transport.StatusNormalClosure, "")
		<-ch.closed
		<-sh.closed
		hs.Close()
	}
	return p
}

// Stream measures messages of size bytes sent one way, from the
// accepted end to the dialed end, as a server stream does: written in
// batches of 64 per Flush, which is how a writer draining a busy queue
// calls the transport. It reports messages per second.
func Stream(b *testing.B, f Factory, size int) {
	var got atomic.Int64
	done := make(chan struct{})
	target := int64(b.N)
	p := newBenchPair(b, f, func([]byte) {}, func([]byte) {
		if got.Add(1) == target {
			close(done)
		}
	})
	defer p.stop()
	msg := payload(1, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.server.WriteMessage(msg); err != nil {
			b.Fatal(err)
		}
		if i%64 == 63 {
			if err := p.server.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := p.server.Flush(); err != nil {
		b.Fatal(err)
	}
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// RoundTrip measures echoes of size-byte messages over one connection
// with inflight messages outstanding: the accepted end writes each
// message back and flushes, the dialed end sends a new message for each
// echo. It reports round trips per second.
func RoundTrip(b *testing.B, f Factory, size, inflight int) {
	msg := payload(2, size)
	var (
		server   transport.Conn
		clientMu sync.Mutex
		client   transport.Conn
		got      atomic.Int64
		sent     atomic.Int64
	)
	done := make(chan struct{})
	target := int64(b.N)
	p := newBenchPair(b, f, func(data []byte) {
		server.WriteMessage(data)
		server.Flush()
	}, func([]byte) {
		n := got.Add(1)
		if n == target {
			close(done)
			return
		}
		if sent.Add(1) <= target {
			clientMu.Lock()
			client.WriteMessage(msg)
			client.Flush()
			clientMu.Unlock()
		}
	})
	defer p.stop()
	server = p.server
	clientMu.Lock()
	client = p.client
	clientMu.Unlock()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	clientMu.Lock()
	for i := 0; i < min(inflight, b.N); i++ {
		sent.Add(1)
		client.WriteMessage(msg)
	}
	client.Flush()
	clientMu.Unlock()
	<-done
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
