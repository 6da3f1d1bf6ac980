package transporttest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/swillorg/swill-go/transport"
)

// Factory returns the acceptor and the dialer under test. Run calls it
// once per subtest. The two need not come from the same implementation.
type Factory func(tb testing.TB) (transport.Acceptor, transport.Dialer)

// waitTimeout bounds every wait in the suite; reaching it is a failure.
const waitTimeout = 10 * time.Second

// message is what a peer received.
type message struct {
	typ  transport.MessageType
	data []byte
}

// peer is a [transport.Handler] that records what its connection
// delivers and checks the Handler contract as it goes.
type peer struct {
	name string
	conn transport.Conn
	echo bool // write every message back

	mu       sync.Mutex
	msgs     []message
	next     int
	problems []string
	signal   chan struct{}

	active atomic.Int32
	closes atomic.Int32
	closed chan struct{}
	err    error // set before closed is closed
}

func newPeer(name string, c transport.Conn) *peer {
	return &peer{name: name, conn: c, signal: make(chan struct{}, 1), closed: make(chan struct{})}
}

func (p *peer) problem(format string, args ...any) {
	p.mu.Lock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
	p.mu.Unlock()
}

func (p *peer) HandleMessage(typ transport.MessageType, data []byte) {
	if p.active.Add(1) != 1 {
		p.problem("HandleMessage called concurrently with itself")
	}
	defer p.active.Add(-1)
	if p.closes.Load() != 0 {
		p.problem("HandleMessage called after HandleClose")
	}
	if p.echo {
		if err := p.conn.WriteMessage(data); err == nil {
			p.conn.Flush()
		}
	}
	m := message{typ: typ, data: bytes.Clone(data)}
	if m.data == nil {
		m.data = []byte{}
	}
	p.mu.Lock()
	p.msgs = append(p.msgs, m)
	p.mu.Unlock()
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

func (p *peer) HandleClose(err error) {
	if p.active.Load() != 0 {
		p.problem("HandleClose called during HandleMessage")
	}
	if p.closes.Add(1) != 1 {
		p.problem("HandleClose called more than once (again with %v)", err)
		return
	}
	p.err = err
	close(p.closed)
}

// recv returns the next message, failing the test if none arrives.
func (p *peer) recv(tb testing.TB) message {
	tb.Helper()
	deadline := time.After(waitTimeout)
	for {
		p.mu.Lock()
		if p.next < len(p.msgs) {
			m := p.msgs[p.next]
			p.next++
			p.mu.Unlock()
			return m
		}
		p.mu.Unlock()
		select {
		case <-p.signal:
		case <-p.closed:
			p.mu.Lock()
			more := p.next < len(p.msgs)
			p.mu.Unlock()
			if !more {
				tb.Fatalf("%s: connection ended while waiting for a message: %v", p.name, p.err)
			}
		case <-deadline:
			tb.Fatalf("%s: no message within %v", p.name, waitTimeout)
		}
	}
}

// received returns how many messages arrived so far.
func (p *peer) received() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs)
}

// waitClosed waits for HandleClose and returns its error.
func (p *peer) waitClosed(tb testing.TB) error {
	tb.Helper()
	select {
	case <-p.closed:
		return p.err
	case <-time.After(waitTimeout):
		tb.Fatalf("%s: HandleClose not called within %v", p.name, waitTimeout)
		return nil
	}
}

// check reports every breach of the Handler contract the peer saw.
func (p *peer) check(tb testing.TB) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.problems {
		tb.Errorf("%s: %s", p.name, s)
	}
}

// serverConfig sets how the fixture's server accepts.
type serverConfig struct {
	opts transport.AcceptOptions
	echo bool
	// onAccept runs in the HTTP handler after Start.
	onAccept func(p *peer)
}

// fixture is an HTTP server on loopback that accepts with the acceptor
// under test, plus the dialer under test.
type fixture struct {
	tb       testing.TB
	dialer   transport.Dialer
	server   *httptest.Server
	url      string
	accepted chan *peer

	mu    sync.Mutex
	peers []*peer
	wg    sync.WaitGroup // goroutines the test started
}

// start serves cfg on a loopback port. Everything is closed, and checked
// for leaked goroutines, when the test ends.
func start(t *testing.T, f Factory, cfg serverConfig) *fixture {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	acc, dialer := f(t)
	fx := &fixture{tb: t, dialer: dialer, accepted: make(chan *peer, 1024)}
	fx.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		opts := cfg.opts
		c, err := acc.Accept(w, r, &opts)
		if err != nil {
			return
		}
		p := newPeer("server", c)
		p.echo = cfg.echo
		fx.track(p)
		c.Start(p)
		if cfg.onAccept != nil {
			cfg.onAccept(p)
		}
		fx.accepted <- p
	}))
	fx.url = "ws" + strings.TrimPrefix(fx.server.URL, "http")
	t.Cleanup(fx.close)
	return fx
}

func (fx *fixture) track(p *peer) {
	fx.mu.Lock()
	fx.peers = append(fx.peers, p)
	fx.mu.Unlock()
}

// close ends every connection, checks that each saw HandleClose exactly
// once and stops the server.
func (fx *fixture) close() {
	fx.wg.Wait()
	fx.mu.Lock()
	peers := fx.peers
	fx.mu.Unlock()
	for _, p := range peers {
		p.conn.Close(transport.StatusGoingAway, "test over")
	}
	for _, p := range peers {
		select {
		case <-p.closed:
		case <-time.After(waitTimeout):
			fx.tb.Errorf("%s: HandleClose not called within %v of Close", p.name, waitTimeout)
		}
		p.check(fx.tb)
	}
	fx.server.Close()
}

// dial connects with the dialer under test, failing the test on error.
func (fx *fixture) dial(opts *transport.DialOptions) *peer {
	fx.tb.Helper()
	p, err := fx.tryDial(opts)
	if err != nil {
		fx.tb.Fatalf("dial: %v", err)
	}
	return p
}

func (fx *fixture) tryDial(opts *transport.DialOptions) (*peer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := fx.dialer.Dial(ctx, fx.url, opts)
	if err != nil {
		return nil, err
	}
	p := newPeer("client", c)
	fx.track(p)
	c.Start(p)
	return p, nil
}

// accept returns the server end of the next connection.
func (fx *fixture) accept() *peer {
	fx.tb.Helper()
	select {
	case p := <-fx.accepted:
		return p
	case <-time.After(waitTimeout):
		fx.tb.Fatalf("no connection accepted within %v", waitTimeout)
		return nil
	}
}

// pair dials and returns both ends.
func (fx *fixture) pair(opts *transport.DialOptions) (client, server *peer) {
	fx.tb.Helper()
	client = fx.dial(opts)
	return client, fx.accept()
}

// goTracked runs f in a goroutine the fixture waits for before closing.
func (fx *fixture) goTracked(f func()) {
	fx.wg.Add(1)
	go func() {
		defer fx.wg.Done()
		f()
	}()
}

// payload returns n bytes derived from seed, so that any misplaced byte
// shows.
func payload(seed, n int) []byte {
	b := make([]byte, n)
	x := uint32(seed)*2654435761 + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func send(tb testing.TB, c transport.Conn, p []byte) {
	tb.Helper()
	if err := c.WriteMessage(p); err != nil {
		tb.Fatalf("WriteMessage: %v", err)
	}
	if err := c.Flush(); err != nil {
		tb.Fatalf("Flush: %v", err)
	}
}

func expectMessage(tb testing.TB, p *peer, typ transport.MessageType, want []byte) {
	tb.Helper()
	m := p.recv(tb)
	if m.typ != typ {
		tb.Fatalf("%s: message type %d, want %d", p.name, m.typ, typ)
	}
	if !bytes.Equal(m.data, want) {
		tb.Fatalf("%s: got %d bytes %s, want %d bytes %s", p.name, len(m.data), abbrev(m.data), len(want), abbrev(want))
	}
}

func abbrev(b []byte) string {
	if len(b) > 16 {
		return fmt.Sprintf("% x...", b[:16])
	}
	return fmt.Sprintf("% x", b)
}
