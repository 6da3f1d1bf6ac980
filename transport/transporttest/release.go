package transporttest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/internal/wstest"
)

// This file checks the optional [transport.Releaser] contract: release
// and flush on idle. The server's side of every connection is a relPeer,
// which blocks in HandleMessage on the messages a test names, lets the
// test release the reader meanwhile, records every message in order and,
// when echoing, writes each message it does not block on back with
// WriteMessage alone, leaving the Flush to the transport.

// gate blocks the HandleMessage call that delivers want until the test
// lets it go.
type gate struct {
	want     []byte
	used     bool          // a call blocked on it; guarded by relPeer.mu
	entered  chan struct{} // closed once the call is blocked
	proceed  chan struct{} // closed to let the call return
	letOnce  sync.Once
	released atomic.Bool // the test released the reader during the call
	// first, when set, runs in the call once entered is closed, before
	// it blocks.
	first func()
	// done receives, as the call returns, what it found wrong with its
	// data ("" when the data still held the message).
	done chan string
}

// relPeer is the server's [transport.Handler] in the release tests. It
// records problems instead of failing the test, since it runs on the
// transport's goroutines; [relPeer.check] reports them.
type relPeer struct {
	conn transport.Conn
	rel  transport.Releaser // nil when conn is not a Releaser

	// echo makes HandleMessage write back each message it does not block
	// on, without a Flush: only the flush on idle sends it.
	echo atomic.Bool

	// unreleased counts the HandleMessage calls running that were not
	// released: at most one, and none during HandleClose.
	unreleased atomic.Int32
	closes     atomic.Int32

	mu       sync.Mutex
	msgs     []message
	gates    []*gate
	problems []string
	changed  chan struct{}
	closed   chan struct{}
	err      error // set before closed is closed
}

var _ transport.Handler = (*relPeer)(nil)

func newRelPeer(c transport.Conn) *relPeer {
	p := &relPeer{conn: c, changed: make(chan struct{}, 1), closed: make(chan struct{})}
	p.rel, _ = c.(transport.Releaser)
	return p
}

func (p *relPeer) problem(format string, args ...any) {
	p.mu.Lock()
	p.problems = append(p.problems, fmt.Sprintf(format, args...))
	p.mu.Unlock()
}

// record appends m to the log and wakes a waiting test.
func (p *relPeer) record(m message) {
	p.mu.Lock()
	p.msgs = append(p.msgs, m)
	p.mu.Unlock()
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// HandleMessage implements [transport.Handler]. It blocks when the data
// matches a gate not used yet, and then checks, once let go, that the
// data still holds the message.
func (p *relPeer) HandleMessage(typ transport.MessageType, data []byte) {
	if p.unreleased.Add(1) != 1 {
		p.problem("HandleMessage called while another HandleMessage call, not released, was running")
	}
	if p.closes.Load() != 0 {
		p.problem("HandleMessage called after HandleClose")
	}
	var g *gate
	p.mu.Lock()
	for _, c := range p.gates {
		if !c.used && bytes.Equal(c.want, data) {
			g, c.used = c, true
			break
		}
	}
	p.mu.Unlock()
	p.record(message{typ: typ, data: bytes.Clone(data)})
	if g == nil {
		if p.echo.Load() {
			// A write that fails (the connection is closing) is no
			// breach of the contract.
			p.conn.WriteMessage(data)
		}
		p.unreleased.Add(-1)
		return
	}
	close(g.entered)
	if g.first != nil {
		g.first()
	}
	select {
	case <-g.proceed:
	case <-time.After(2 * waitTimeout):
		p.problem("blocked HandleMessage not let go within %v", 2*waitTimeout)
	}
	var res string
	if !bytes.Equal(data, g.want) {
		res = fmt.Sprintf("the data of a blocked HandleMessage call changed before it returned, from byte %d: %d bytes %s, delivered as %d bytes %s",
			firstDiff(data, g.want), len(data), abbrev(data), len(g.want), abbrev(g.want))
	}
	if !g.released.Load() {
		p.unreleased.Add(-1)
	}
	g.done <- res
}

// HandleClose implements [transport.Handler].
func (p *relPeer) HandleClose(err error) {
	if p.unreleased.Load() != 0 {
		p.problem("HandleClose called while a HandleMessage call, not released, was running")
	}
	if p.closes.Add(1) != 1 {
		p.problem("HandleClose called more than once (again with %v)", err)
		return
	}
	p.err = err
	close(p.closed)
	select {
	case p.changed <- struct{}{}:
	default:
	}
}

// block makes the next HandleMessage call that delivers want block until
// [relPeer.letGo].
func (p *relPeer) block(want []byte) *gate { return p.blockAfter(want, nil) }

// blockAfter is [relPeer.block], with first (when not nil) run in the
// call before it blocks.
func (p *relPeer) blockAfter(want []byte, first func()) *gate {
	g := &gate{
		want:    want,
		first:   first,
		entered: make(chan struct{}),
		proceed: make(chan struct{}),
		done:    make(chan string, 1),
	}
	p.mu.Lock()
	p.gates = append(p.gates, g)
	p.mu.Unlock()
	return g
}

// waitEntered waits for a HandleMessage call to block on g.
func (p *relPeer) waitEntered(tb testing.TB, g *gate) {
	tb.Helper()
	select {
	case <-g.entered:
	case <-time.After(waitTimeout):
		tb.Fatalf("server: the message of %d bytes %s not delivered within %v", len(g.want), abbrev(g.want), waitTimeout)
	}
}

// release releases the reader during the call blocked on g.
func (p *relPeer) release(g *gate) {
	g.released.Store(true)
	p.unreleased.Add(-1)
	p.rel.ReleaseReader()
}

// letGo lets the call blocked on g return and checks that its data was
// intact.
func (p *relPeer) letGo(tb testing.TB, g *gate) {
	tb.Helper()
	g.letOnce.Do(func() { close(g.proceed) })
	select {
	case res := <-g.done:
		if res != "" {
			tb.Errorf("server: %s", res)
		}
	case <-time.After(waitTimeout):
		tb.Fatalf("server: a blocked HandleMessage call did not return within %v of being let go", waitTimeout)
	}
}

// letAllGo lets every blocked call return, for the end of a test.
func (p *relPeer) letAllGo() {
	p.mu.Lock()
	gates := p.gates
	p.mu.Unlock()
	for _, g := range gates {
		g.letOnce.Do(func() { close(g.proceed) })
	}
}

// waitFor waits until cond, called with p.mu held, holds. It fails the
// test if the connection ends first.
func (p *relPeer) waitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.After(waitTimeout)
	for {
		p.mu.Lock()
		ok := cond()
		p.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-p.closed:
			p.mu.Lock()
			ok := cond()
			p.mu.Unlock()
			if !ok {
				tb.Fatalf("server: %s: the connection ended first: %v", what, p.err)
			}
			return
		case <-p.changed:
		case <-deadline:
			tb.Fatalf("server: %s: not within %v", what, waitTimeout)
		}
	}
}

// messagesLocked returns the messages delivered so far, in order.
func (p *relPeer) messagesLocked() []message { return p.msgs }

// expectMessages waits until len(want) messages have been delivered and
// checks them against want.
func (p *relPeer) expectMessages(tb testing.TB, what string, want ...message) {
	tb.Helper()
	if what != "" {
		what = " " + what
	}
	p.waitFor(tb, fmt.Sprintf("%d messages delivered%s", len(want), what), func() bool {
		return len(p.messagesLocked()) >= len(want)
	})
	p.mu.Lock()
	got := p.messagesLocked()
	p.mu.Unlock()
	if len(got) != len(want) {
		tb.Fatalf("server: %d messages delivered%s, want %d", len(got), what, len(want))
	}
	for i := range want {
		if got[i].typ != want[i].typ || !bytes.Equal(got[i].data, want[i].data) {
			tb.Fatalf("server: message %d delivered%s: type %d, %d bytes %s; want type %d, %d bytes %s (first difference at byte %d)",
				i, what, got[i].typ, len(got[i].data), abbrev(got[i].data), want[i].typ, len(want[i].data), abbrev(want[i].data),
				firstDiff(got[i].data, want[i].data))
		}
	}
}

// firstDiff returns the offset of the first byte where a and b differ.
func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// expectEchoes checks that the client receives want next: the echoes
// of an echoing relPeer, which only the transport's flush on idle can
// have sent.
func expectEchoes(tb testing.TB, c *peer, what string, want ...message) {
	tb.Helper()
	for i, m := range want {
		got := c.recv(tb)
		if got.typ != transport.Binary || !bytes.Equal(got.data, m.data) {
			tb.Fatalf("client: echo %d of %d%s: type %d, %d bytes %s; want %d bytes %s (flush on idle)",
				i+1, len(want), what, got.typ, len(got.data), abbrev(got.data), len(m.data), abbrev(m.data))
		}
	}
}

// waitClosed waits for HandleClose and returns its error.
func (p *relPeer) waitClosed(tb testing.TB) error {
	tb.Helper()
	select {
	case <-p.closed:
		return p.err
	case <-time.After(waitTimeout):
		tb.Fatalf("server: HandleClose not called within %v", waitTimeout)
		return nil
	}
}

// check reports every breach of the contracts the peer saw.
func (p *relPeer) check(tb testing.TB) {
	tb.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, s := range p.problems {
		tb.Errorf("server: %s", s)
	}
}

// releaseFixture is an HTTP server on loopback whose connections, accepted
// with the acceptor under test, are started with a relPeer.
type releaseFixture struct {
	tb       testing.TB
	dialer   transport.Dialer
	server   *httptest.Server
	url      string
	accepted chan *relPeer

	mu      sync.Mutex
	servers []*relPeer
	clients []*peer
	closers []func() // raw clients
	wg      sync.WaitGroup
}

// startRelease serves on a loopback port. Everything is closed, and
// checked for leaked goroutines, when the test ends.
func startRelease(t *testing.T, f Factory) *releaseFixture {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
	acc, dialer := f(t)
	fx := &releaseFixture{tb: t, dialer: dialer, accepted: make(chan *relPeer, 16)}
	fx.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := acc.Accept(w, r, &transport.AcceptOptions{Subprotocols: serverProtocols})
		if err != nil {
			return
		}
		p := newRelPeer(c)
		fx.mu.Lock()
		fx.servers = append(fx.servers, p)
		fx.mu.Unlock()
		c.Start(p)
		fx.accepted <- p
	}))
	fx.url = "ws" + strings.TrimPrefix(fx.server.URL, "http")
	t.Cleanup(fx.close)
	return fx
}

// close lets every blocked call go, ends every connection, checks that
// each saw HandleClose exactly once and stops the server.
func (fx *releaseFixture) close() {
	fx.wg.Wait()
	fx.mu.Lock()
	servers, clients, closers := fx.servers, fx.clients, fx.closers
	fx.mu.Unlock()
	for _, s := range servers {
		s.letAllGo()
	}
	for _, c := range closers {
		c()
	}
	for _, c := range clients {
		c.conn.Close(transport.StatusGoingAway, "test over")
	}
	// The servers' sides end with their clients, and are closed only
	// then: closing one while HandleMessage may still run is what
	// Idle/CloseDuringMessage checks on its own.
	for _, s := range servers {
		select {
		case <-s.closed:
		case <-time.After(waitTimeout):
			fx.tb.Errorf("server: HandleClose not called within %v of the client's end", waitTimeout)
		}
		s.conn.Close(transport.StatusGoingAway, "test over")
		s.check(fx.tb)
	}
	for _, c := range clients {
		select {
		case <-c.closed:
		case <-time.After(waitTimeout):
			fx.tb.Errorf("client: HandleClose not called within %v of Close", waitTimeout)
		}
		c.check(fx.tb)
	}
	fx.server.Close()
}

// accept returns the server's end of the next connection, skipping the
// test when it is not a [transport.Releaser].
func (fx *releaseFixture) accept(t *testing.T) *relPeer {
	t.Helper()
	select {
	case p := <-fx.accepted:
		if p.rel == nil {
			t.Skipf("%T does not implement transport.Releaser", p.conn)
		}
		return p
	case <-time.After(waitTimeout):
		t.Fatalf("no connection accepted within %v", waitTimeout)
		return nil
	}
}

// pair dials with the dialer under test and returns both ends.
func (fx *releaseFixture) pair(t *testing.T) (*peer, *relPeer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, err := fx.dialer.Dial(ctx, fx.url, &transport.DialOptions{Subprotocols: []string{preferred}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	p := newPeer("client", c)
	fx.mu.Lock()
	fx.clients = append(fx.clients, p)
	fx.mu.Unlock()
	c.Start(p)
	return p, fx.accept(t)
}

// rawPair connects with another implementation, to send fragments.
func (fx *releaseFixture) rawPair(t *testing.T) (*websocket.Conn, *relPeer) {
	t.Helper()
	raw := rawClient(t, fx.url)
	fx.mu.Lock()
	fx.closers = append(fx.closers, func() { raw.CloseNow() })
	fx.mu.Unlock()
	return raw, fx.accept(t)
}

// framePair connects with a hand-written client, to send frames in
// pieces.
func (fx *releaseFixture) framePair(t *testing.T) (net.Conn, *relPeer) {
	t.Helper()
	nc, err := wstest.Dial(strings.TrimPrefix(fx.url, "ws://"), nil)
	if err != nil {
		t.Fatalf("handshake: %v", err)
	}
	fx.mu.Lock()
	fx.closers = append(fx.closers, func() { nc.Close() })
	fx.mu.Unlock()
	return nc, fx.accept(t)
}

// goTracked runs f in a goroutine the fixture waits for before closing.
func (fx *releaseFixture) goTracked(f func()) {
	fx.wg.Add(1)
	go func() {
		defer fx.wg.Done()
		f()
	}()
}

// bin is a binary message.
func bin(data []byte) message { return message{typ: transport.Binary, data: data} }

// writeBatch writes msgs and flushes once, so that they reach the server
// together.
func writeBatch(tb testing.TB, c transport.Conn, msgs ...message) {
	tb.Helper()
	for _, m := range msgs {
		if err := c.WriteMessage(m.data); err != nil {
			tb.Fatalf("client: WriteMessage: %v", err)
		}
	}
	if err := c.Flush(); err != nil {
		tb.Fatalf("client: Flush: %v", err)
	}
}

// followers are the messages the release tests send after the blocking
// one: small ones, one empty, some of a few kilobytes on either side of
// a typical 4 KiB read buffer, and one larger than a 64 KiB write batch.
func followers(seed int) []message {
	return []message{
		bin(payload(seed, 17)),
		bin(payload(seed+1, 3000)),
		bin(payload(seed+2, 0)),
		bin(payload(seed+3, 5000)),
		bin(payload(seed+4, 125)),
		bin(payload(seed+5, 70_000)),
	}
}

// testRelease checks [transport.Releaser]: once the reader is released
// during a HandleMessage call that blocks, the messages after it are
// delivered while it blocks, and its data stays intact.
func testRelease(t *testing.T, f Factory) {
	t.Run("Batch", func(t *testing.T) { testReleaseBatch(t, f) })
	t.Run("ReturnAtOnce", func(t *testing.T) { testReleaseReturnAtOnce(t, f) })
	t.Run("Nested", func(t *testing.T) { testReleaseNested(t, f) })
	t.Run("Fragmented", func(t *testing.T) { testReleaseFragmented(t, f) })
	t.Run("CloseFromClient", func(t *testing.T) { testReleaseClose(t, f, "client") })
	t.Run("CloseFromServer", func(t *testing.T) { testReleaseClose(t, f, "server") })
	t.Run("WriteBeforeRelease", func(t *testing.T) { testReleaseAfterWrite(t, f) })
	t.Run("CloseDuringMessage", func(t *testing.T) { testCloseDuringMessage(t, f, false) })
	t.Run("CloseInsideMessage", func(t *testing.T) { testCloseDuringMessage(t, f, true) })
}

// testReleaseBatch sends, in one write, a message the server blocks on
// and messages of every size class after it, so that they wait in the
// server's read buffer when the reader is released. Two rounds on one
// connection: the second releases the reader the first started, during
// a message larger than a typical read buffer.
func testReleaseBatch(t *testing.T, f Factory) {
	fx := startRelease(t, f)
	c, s := fx.pair(t)
	s.echo.Store(true)
	var want []message
	for round, size := range []int{300, 10_000} {
		what := fmt.Sprintf("in round %d", round+1)
		block := bin(payload(100+round, size))
		follow := followers(10 * (round + 1))
		g := s.block(block.data)
		writeBatch(t, c.conn, append([]message{block}, follow...)...)
		s.waitEntered(t, g)
		s.release(g)
		want = append(append(want, block), follow...)
		s.expectMessages(t, what+" while the released call blocks", want...)
		// The new reader has delivered everything and flushed its
		// echoes on idle.
		expectEchoes(t, c, " "+what+" while the released call blocks", follow...)
		s.letGo(t, g)
	}
	// The connection still works both ways.
	last := bin(payload(99, 40))
	writeBatch(t, c.conn, last)
	want = append(want, last)
	s.expectMessages(t, "at the end", want...)
	expectEchoes(t, c, " at the end", last)
	send(t, s.conn, last.data)
	expectMessage(t, c, transport.Binary, last.data)
}

// testReleaseAfterWrite writes, without a Flush, from a HandleMessage
// call that blocks, then releases the reader: with nothing more to read,
// the new reader must flush the write before it waits for the network.
func testReleaseAfterWrite(t *testing.T, f Factory) {
	fx := startRelease(t, f)
	c, s := fx.pair(t)
	block := bin(payload(120, 500))
	var werr error
	wrote := make(chan struct{})
	g := s.blockAfter(block.data, func() {
		werr = s.conn.WriteMessage(block.data)
		close(wrote)
	})
	writeBatch(t, c.conn, block)
	s.waitEntered(t, g)
	select {
	case <-wrote:
	case <-time.After(waitTimeout):
		t.Fatal("server: the blocked call's WriteMessage did not return")
	}
	s.release(g)
	expectEchoes(t, c, " written before the release, with nothing more to read", block)
	s.letGo(t, g)
	if werr != nil {
		t.Errorf("server: WriteMessage: %v", werr)
	}
}

// testReleaseReturnAtOnce lets the released call return before the new
// reader can have delivered anything: the messages after it come once
// each, in order, whichever goroutine reads them.
func testReleaseReturnAtOnce(t *testing.T, f Factory) {
	fx := startRelease(t, f)
	c, s := fx.pair(t)
	var want []message
	for round, size := range []int{300, 10_000} {
		block := bin(payload(150+round, size))
		follow := followers(160 + 10*round)
		g := s.block(block.data)
		writeBatch(t, c.conn, append([]message{block}, follow...)...)
		s.waitEntered(t, g)
		s.release(g)
		s.letGo(t, g)
		want = append(append(want, block), follow...)
		s.expectMessages(t, fmt.Sprintf("in round %d", round+1), want...)
	}
	// Nothing more comes: one last message is the next one delivered.
	last := bin(payload(199, 40))
	writeBatch(t, c.conn, last)
	s.expectMessages(t, "at the end", append(want, last)...)
}

// testReleaseNested releases the reader during message A, then, while A
// still blocks, the new reader during message B.
func testReleaseNested(t *testing.T, f Factory) {
	fx := startRelease(t, f)
	c, s := fx.pair(t)
	s.echo.Store(true)
	a, b := bin(payload(201, 300)), bin(payload(202, 10_000))
	follow := followers(210)
	ga, gb := s.block(a.data), s.block(b.data)
	writeBatch(t, c.conn, append([]message{a, b}, follow...)...)
	s.waitEntered(t, ga)
	s.release(ga)
	s.waitEntered(t, gb)
	s.release(gb)
	want := append([]message{a, b}, follow...)
	s.expectMessages(t, "while two released calls block", want...)
	expectEchoes(t, c, " while two released calls block", follow...)
	s.letGo(t, gb)
	s.letGo(t, ga)

	// A third release, of the reader that was started second.
	d := bin(payload(203, 5000))
	gd := s.block(d.data)
	more := followers(220)
	writeBatch(t, c.conn, append([]message{d}, more...)...)
	s.waitEntered(t, gd)
	s.release(gd)
	want = append(append(want, d), more...)
	s.expectMessages(t, "after the third release", want...)
	s.letGo(t, gd)
}

// testReleaseFragmented blocks on messages sent in several frames by
// another implementation, and sends fragmented messages after the
// release.
func testReleaseFragmented(t *testing.T, f Factory) {
	fx := startRelease(t, f)
	raw, s := fx.rawPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	write := func(typ websocket.MessageType, parts ...[]byte) message {
		t.Helper()
		w, err := raw.Writer(ctx, typ)
		if err != nil {
			t.Fatalf("raw Writer: %v", err)
		}
		var all []byte
		for _, p := range parts {
			if _, err := w.Write(p); err != nil {
				t.Fatalf("raw Write: %v", err)
			}
			all = append(all, p...)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("raw Close: %v", err)
		}
		return message{typ: transport.MessageType(typ), data: all}
	}
	var want []message
	for round, size := range []int{150, 5000} {
		what := fmt.Sprintf("in round %d", round+1)
		seed := 300 + 10*round
		block := append(append(payload(seed, size), payload(seed+1, 1)...), payload(seed+2, size)...)
		g := s.block(block)
		want = append(want, write(websocket.MessageBinary, payload(seed, size), payload(seed+1, 1), payload(seed+2, size)))
		s.waitEntered(t, g)
		s.release(g)
		want = append(want,
			write(websocket.MessageBinary, payload(seed+3, 3000), payload(seed+4, 3000), payload(seed+5, 3000)),
			write(websocket.MessageText, []byte("frag"), []byte("mented")),
			write(websocket.MessageBinary, payload(seed+6, 50)),
		)
		s.expectMessages(t, what+" while the released call blocks", want...)
		s.letGo(t, g)
	}
}

// testReleaseClose ends the connection, from side, while a released
// call blocks: HandleClose comes once, from the new reader, and every
// goroutine of the connection ends once the call returns.
func testReleaseClose(t *testing.T, f Factory, side string) {
	fx := startRelease(t, f)
	c, s := fx.pair(t)
	s.echo.Store(true)
	block, next := bin(payload(401, 300)), bin(payload(402, 5000))
	g := s.block(block.data)
	writeBatch(t, c.conn, block, next)
	s.waitEntered(t, g)
	s.release(g)
	s.expectMessages(t, "while the released call blocks", block, next)
	switch side {
	case "client":
		if err := c.conn.Close(transport.StatusNormalClosure, "bye"); err != nil {
			t.Errorf("client: Close: %v", err)
		}
		expectCloseError(t, "server", s.waitClosed(t), transport.StatusNormalClosure, "bye")
	case "server":
		// Once the new reader has flushed its echo on idle, it waits
		// for more: no HandleMessage call but the released one runs
		// (see CloseDuringMessage).
		expectEchoes(t, c, "", next)
		if err := s.conn.Close(transport.StatusNormalClosure, "bye"); err != nil {
			t.Errorf("server: Close: %v", err)
		}
		if err := s.waitClosed(t); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("server: HandleClose(%v), want transport.ErrClosed", err)
		}
		expectCloseError(t, "client", c.waitClosed(t), transport.StatusNormalClosure, "bye")
	}
	s.letGo(t, g)
	if n := s.closes.Load(); n != 1 {
		t.Errorf("server: HandleClose called %d times, want 1", n)
	}
}

// testFlushOnIdle checks the flush on idle of [transport.Releaser]: what
// HandleMessage writes without a Flush reaches the peer once the reader
// has delivered what it received, even mid-message, and a peer that
// stops reading holds up no other connection.
func testFlushOnIdle(t *testing.T, f Factory) {
	t.Run("AfterMessages", func(t *testing.T) { testFlushAfterMessages(t, f) })
	t.Run("MidMessage", func(t *testing.T) { testFlushMidMessage(t, f) })
	t.Run("StalledPeer", func(t *testing.T) { testFlushStalledPeer(t, f) })
	t.Run("StalledPeerCloses", func(t *testing.T) { testFlushStalledPeerCloses(t, f) })
}

// testFlushAfterMessages sends one message, then a batch of messages of
// every size class: their echoes all arrive, in order.
func testFlushAfterMessages(t *testing.T, f Factory) {
	fx := startRelease(t, f)
	c, s := fx.pair(t)
	s.echo.Store(true)
	one := bin(payload(501, 20))
	writeBatch(t, c.conn, one)
	s.expectMessages(t, "", one)
	expectEchoes(t, c, " of one message", one)
	batch := followers(510)
	writeBatch(t, c.conn, batch...)
	s.expectMessages(t, "", append([]message{one}, batch...)...)
	expectEchoes(t, c, " of a batch", batch...)
	// Many small messages in one write: the echoes of each burst leave
	// together, and all of them leave.
	var many []message
	for i := range 300 {
		many = append(many, bin(payload(520+i, 1+i%40)))
	}
	writeBatch(t, c.conn, many...)
	expectEchoes(t, c, " of 300 small messages", many...)
}

// testFlushMidMessage checks, with a client that writes frames in
// pieces, that the reader flushes when it waits in the middle of a frame
// or of a header.
func testFlushMidMessage(t *testing.T, f Factory) {
	fx := startRelease(t, f)
	nc, s := fx.framePair(t)
	s.echo.Store(true)
	write := func(b []byte) {
		t.Helper()
		nc.SetWriteDeadline(time.Now().Add(waitTimeout))
		if _, err := nc.Write(b); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	echo := func(want []byte, what string) {
		t.Helper()
		nc.SetReadDeadline(time.Now().Add(waitTimeout))
		b0, p, err := wstest.ReadFrame(nc)
		if err != nil {
			t.Fatalf("client: echo %s not received (flush on idle): %v", what, err)
		}
		if b0 != 0x82 || !bytes.Equal(p, want) {
			t.Fatalf("client: echo %s: header byte %#x, %d bytes %s; want 0x82, %d bytes %s", what, b0, len(p), abbrev(p), len(want), abbrev(want))
		}
	}
	m1, m2, m3 := payload(601, 20), payload(602, 100), payload(603, 10)
	f2, f3 := wstest.Masked(0x82, m2), wstest.Masked(0x82, m3)
	half := len(f2) / 2
	// A whole message and half of the next: the reader must wait in the
	// middle of the payload.
	write(append(wstest.Masked(0x82, m1), f2[:half]...))
	s.expectMessages(t, "", bin(m1))
	echo(m1, "while the next message is incomplete")
	// The rest, and the first byte of a header.
	write(append(f2[half:], f3[0]))
	s.expectMessages(t, "", bin(m1), bin(m2))
	echo(m2, "while the next header is incomplete")
	write(f3[1:])
	s.expectMessages(t, "", bin(m1), bin(m2), bin(m3))
	echo(m3, "at the end")
}

// testFlushStalledPeer has several clients send messages whose echoes
// they never read, more than the sockets' buffers take, then checks that
// another connection is served as usual: a transport whose readers serve
// many connections must not wait for a stalled peer when it flushes.
func testFlushStalledPeer(t *testing.T, f Factory) {
	fx := startRelease(t, f)
	const stalled = 8
	big := payload(801, 60_000)
	frame := wstest.MaskedLarge(0x82, big)
	for i := range stalled {
		nc, s := fx.framePair(t)
		s.echo.Store(true)
		go func() {
			// 64 messages of 60 KB, 3.8 MB: the writes may block once the
			// server stops reading, and end when the test closes nc.
			nc.SetWriteDeadline(time.Now().Add(2 * waitTimeout))
			for range 64 {
				if _, err := nc.Write(frame); err != nil {
					return
				}
			}
		}()
		// Wait until this stalled peer's echoes are more than a loopback
		// socket's buffers take before they grow (a reader per
		// connection then waits, and reads no more).
		s.waitFor(t, fmt.Sprintf("stalled client %d: messages delivered", i+1), func() bool { return len(s.msgs) >= 4 })
	}
	c, s := fx.pair(t)
	s.echo.Store(true)
	for i := range 3 {
		m := bin(payload(810+i, 100))
		writeBatch(t, c.conn, m)
		expectEchoes(t, c, " while other peers stall", m)
	}
}

// testFlushStalledPeerCloses is StalledPeer with clients that end their
// flood with a close frame: a transport whose readers serve many
// connections must not wait for a stalled peer either when it answers
// the close frame, after the echoes it holds for it.
func testFlushStalledPeerCloses(t *testing.T, f Factory) {
	fx := startRelease(t, f)
	const stalled, msgs = 4, 64
	big := payload(851, 60_000)
	frame := wstest.MaskedLarge(0x82, big)
	closeFrame := wstest.Masked(0x88, []byte{0x03, 0xe8}) // 1000
	for i := range stalled {
		nc, s := fx.framePair(t)
		s.echo.Store(true)
		go func() {
			nc.SetWriteDeadline(time.Now().Add(2 * waitTimeout))
			for range msgs {
				if _, err := nc.Write(frame); err != nil {
					return
				}
			}
			nc.Write(closeFrame)
		}()
		s.waitFor(t, fmt.Sprintf("stalled client %d: messages delivered", i+1), func() bool { return len(s.msgs) >= 4 })
		// A reader per connection waits for the peer once the sockets'
		// buffers are full; one that does not goes on to the close
		// frame: give it the time to.
		for last := -1; ; {
			time.Sleep(100 * time.Millisecond)
			s.mu.Lock()
			n := len(s.msgs)
			s.mu.Unlock()
			if n >= msgs || n == last {
				break
			}
			last = n
		}
	}
	c, s := fx.pair(t)
	s.echo.Store(true)
	start := time.Now()
	for i := range 3 {
		m := bin(payload(860+i, 100))
		writeBatch(t, c.conn, m)
		expectEchoes(t, c, " while other peers stall after their close frame", m)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("3 echoes took %v while stalled peers closed: their close frames held up the other connections", d.Round(time.Millisecond))
	}
}

// testCloseDuringMessage closes the server's side while a HandleMessage
// call, not released, blocks, from another goroutine or from inside the
// call: Close may run concurrently with everything, and must return
// while the call blocks.
func testCloseDuringMessage(t *testing.T, f Factory, inside bool) {
	fx := startRelease(t, f)
	c, s := fx.pair(t)
	block := bin(payload(701, 300))
	closed := make(chan error, 1)
	closeServer := func() { closed <- s.conn.Close(transport.StatusNormalClosure, "bye") }
	var g *gate
	if inside {
		g = s.blockAfter(block.data, closeServer)
	} else {
		g = s.block(block.data)
	}
	writeBatch(t, c.conn, block)
	s.waitEntered(t, g)
	if !inside {
		fx.goTracked(closeServer)
	}
	expectCloseError(t, "client", c.waitClosed(t), transport.StatusNormalClosure, "bye")
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("server: Close: %v", err)
		}
	case <-time.After(waitTimeout):
		t.Errorf("server: Close called during HandleMessage did not return within %v", waitTimeout)
	}
	s.letGo(t, g)
	if err := s.waitClosed(t); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("server: HandleClose(%v), want transport.ErrClosed", err)
	}
}
