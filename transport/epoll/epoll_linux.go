//go:build linux

package epoll

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/internal/wsconn"
)

const (
	// workerBufferSize is each worker's read buffer. Frames that fit in
	// one read are delivered from it without a copy.
	workerBufferSize = 64 << 10
	// maxReadsPerTurn bounds how long a worker stays on one busy
	// connection before the others get their turn.
	maxReadsPerTurn = 4
	// pendingBufferSize is the size of the pooled buffer that keeps a
	// frame cut in two by a read; larger frames get a buffer of their
	// exact size.
	pendingBufferSize = 16 << 10
	// armEvents are the events a connection waits for. EPOLLONESHOT
	// disarms it once reported, so that one worker at a time owns it,
	// until the worker arms it again.
	armEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT
)

type acceptorState struct {
	p *poller // nil while there are no connections
}

// Accept upgrades r and returns a connection read through the
// Acceptor's poller. On failure an HTTP error has been written to w.
// A zero opts.ReadLimit means [transport.DefaultAcceptReadLimit].
func (a *Acceptor) Accept(w http.ResponseWriter, r *http.Request, opts *transport.AcceptOptions) (transport.Conn, error) {
	if opts == nil {
		opts = &transport.AcceptOptions{}
	}
	if r.TLS != nil {
		err := errors.New("epoll: TLS connections are not supported; terminate TLS in front of the server")
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return nil, err
	}
	nc, br, sub, err := wsconn.Upgrade(w, r, opts)
	if err != nil {
		return nil, err
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		nc.Close()
		return nil, fmt.Errorf("epoll: %T has no file descriptor", nc)
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("epoll: %w", err)
	}
	limit := opts.ReadLimit
	if limit <= 0 {
		limit = transport.DefaultAcceptReadLimit
	}
	c := &conn{a: a, rc: rc}
	c.tw.fn = c.tw.write
	c.Conn = wsconn.New(nc, wsconn.Options{
		Subprotocol:  sub,
		ReadLimit:    limit,
		WriteTimeout: cmp.Or(a.WriteTimeout, opts.WriteTimeout),
		CloseTimeout: a.CloseTimeout,
		Abort:        c.abort,
		AsyncPong:    true,
		Shared:       true,
		TryWrite:     c.tryWrite,
	})
	// Bytes the client sent right after its request are parsed first;
	// the HTTP server's read buffer is dropped.
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		c.in = append(make([]byte, 0, max(n, pendingBufferSize)), b...)
		c.unparsed = true
	}
	return c, nil
}

// register adds c to the poller, starting one if c is the first
// connection.
func (a *Acceptor) register(c *conn) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	p := a.state.p
	if p == nil {
		var err error
		if p, err = newPoller(a.Workers); err != nil {
			return err
		}
		a.state.p = p
	}
	p.mu.Lock()
	p.nextID++
	c.id, c.p = p.nextID, p
	p.conns[c.id] = c
	p.mu.Unlock()
	if err := c.arm(unix.EPOLL_CTL_ADD); err != nil {
		a.unregisterLocked(c)
		return err
	}
	return nil
}

// unregister removes c, stopping the poller after its last connection.
func (a *Acceptor) unregister(c *conn) {
	a.mu.Lock()
	a.unregisterLocked(c)
	a.mu.Unlock()
}

func (a *Acceptor) unregisterLocked(c *conn) {
	p := c.p
	p.mu.Lock()
	delete(p.conns, c.id)
	empty := len(p.conns) == 0
	p.mu.Unlock()
	if empty && a.state.p == p {
		a.state.p = nil
		p.stop()
	}
}

// poller owns an epoll instance and the workers. The worker holding the
// poller's token waits on the instance, and serves the connections it
// finds ready itself, so that a ready connection is read on the goroutine
// that was woken for it, with no hand-off. When it finds several, it
// passes the token on at once, and another worker waits while it serves
// them; when it finds one, it keeps the token, and no other worker is
// woken. A worker released while serving (see conn.ReleaseReader) has its
// token passed on by the release. An eventfd, registered with id 0 and
// never drained, stops every worker in turn.
type poller struct {
	epfd, evfd int
	ef         *os.File        // epfd, registered with the runtime's poller
	erc        syscall.RawConn // ef's
	token      chan struct{}   // holds the token while no worker does
	spare      sync.Pool       // of *worker, for connections served outside the pool
	wg         sync.WaitGroup  // the workers, and connections scheduled outside them

	mu     sync.Mutex
	conns  map[uint64]*conn
	nextID uint64
}

// eventsPerWait bounds the connections one worker takes from one wait:
// those it serves one after another while other workers wait.
const eventsPerWait = 16

func newPoller(workers int) (*poller, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll: epoll_create1: %w", err)
	}
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll: epoll_ctl: %w", err)
	}
	// The workers wait for the epoll instance through the Go runtime's
	// own poller, as for any socket: an epoll descriptor is readable while
	// it has events. A blocking epoll_wait would take its thread out of
	// the scheduler, and waking it, then getting a P back, costs more
	// than the rest of a call.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(evfd)
		unix.Close(epfd)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	ef := os.NewFile(uintptr(epfd), "epoll")
	erc, err := ef.SyscallConn()
	if err != nil {
		ef.Close()
		unix.Close(evfd)
		return nil, fmt.Errorf("epoll: %w", err)
	}
	p := &poller{epfd: epfd, evfd: evfd, ef: ef, erc: erc, token: make(chan struct{}, 1), conns: map[uint64]*conn{}}
	p.token <- struct{}{}
	p.spare.New = func() any { return newWorker(p) }
	p.wg.Add(workers)
	for i := 0; i < workers; i++ {
		go p.worker(nil)
	}
	go func() {
		// The descriptors outlive every worker.
		p.wg.Wait()
		unix.Close(p.evfd)
		p.ef.Close()
	}()
	return p, nil
}

func (p *poller) stop() {
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(p.evfd, one[:])
}

// wait waits for ready connections and leaves them in w.events[:n].
func (p *poller) wait(w *worker) (n int, err error) {
	w.nev, w.everr = 0, nil
	if err := p.erc.Read(w.waitFn); err != nil {
		return 0, err
	}
	return w.nev, w.everr
}

func (p *poller) failAll(err error) {
	p.mu.Lock()
	conns := make([]*conn, 0, len(p.conns))
	for _, c := range p.conns {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.abort()
		p.schedule(c)
	}
}

func eventID(ev *unix.EpollEvent) uint64 {
	return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
}

func setEventID(ev *unix.EpollEvent, id uint64) {
	ev.Fd = int32(uint32(id))
	ev.Pad = int32(uint32(id >> 32))
}

// claim makes the caller the one serving c and reports true, unless c is
// finished, or served already: that worker is told to take another turn.
func (p *poller) claim(c *conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.dead:
		return false
	case c.running:
		c.again = true
		return false
	}
	c.running = true
	return true
}

// schedule serves c on a goroutine of its own, for readiness that does not
// come from a worker's wait (bytes read with the upgrade, an abort, the
// events left by a released worker).
func (p *poller) schedule(c *conn) {
	if p.claim(c) {
		p.serveOnce(c)
	}
}

// serveOnce serves c, claimed, on a goroutine of its own with a spare
// worker. Its buffer goes back to the pool once c is served: when a call
// was released, that is after the call has returned.
func (p *poller) serveOnce(c *conn) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		w := p.spare.Get().(*worker)
		c.process(w)
		p.spare.Put(w)
	}()
}

// worker serves connections until the poller stops, starting with first
// when it is not nil, or until a connection it serves is released (see
// conn.ReleaseReader), which starts another worker in its place.
func (p *poller) worker(first *conn) {
	defer p.wg.Done()
	w := newWorker(p)
	w.pooled = true
	if first != nil && !first.process(w) {
		return
	}
	for {
		if !w.token {
			<-p.token
			w.token = true
		}
		n, err := p.wait(w)
		if err != nil {
			// Not expected with a valid descriptor; fail every
			// connection rather than spin.
			w.passToken()
			p.failAll(fmt.Errorf("epoll: epoll_wait: %w", err))
			return
		}
		if n > 1 {
			w.passToken()
		}
		stopped := false
		for i := range w.events[:n] {
			id := eventID(&w.events[i])
			if id == 0 {
				stopped = true
				continue
			}
			c := p.lookup(id)
			if c == nil || !p.claim(c) {
				continue
			}
			w.rest = w.events[i+1 : n]
			if !c.process(w) {
				return // released: the release took the token and the rest
			}
		}
		if stopped {
			w.passToken()
			return
		}
	}
}

// passToken gives the poller's token to the next worker, if w holds it.
func (w *worker) passToken() {
	if w.token {
		w.token = false
		w.p.token <- struct{}{}
	}
}

func (p *poller) lookup(id uint64) *conn {
	if id == 0 {
		return nil
	}
	p.mu.Lock()
	c := p.conns[id]
	p.mu.Unlock()
	return c
}

// worker holds a worker's read buffer and the functions it passes to
// syscall.RawConn, made once so that reading and re-arming allocate
// nothing.
type worker struct {
	p      *poller
	buf    []byte
	pooled bool // one of the pool's workers, not a spare serving one connection
	// token: the worker holds the poller's token. rest: the events of its
	// last wait it has still to serve. Both its own, except during a
	// HandleMessage call, when ReleaseReader takes them.
	token bool
	rest  []unix.EpollEvent

	// The events of the last wait, and the function that waits.
	events []unix.EpollEvent
	nev    int
	everr  error
	waitFn func(fd uintptr) bool

	// Arguments and results of readFn and rearmFn.
	dst   []byte
	n     int
	err   error
	ev    unix.EpollEvent
	cerr  error
	read  func(fd uintptr) bool
	rearm func(fd uintptr)
}

func newWorker(p *poller) *worker {
	w := &worker{p: p, buf: make([]byte, workerBufferSize), events: make([]unix.EpollEvent, eventsPerWait)}
	w.waitFn = func(fd uintptr) bool {
		for {
			w.nev, w.everr = unix.EpollWait(int(fd), w.events, 0)
			if w.everr != unix.EINTR {
				return w.nev != 0 || w.everr != nil
			}
		}
	}
	w.read = func(fd uintptr) bool {
		for {
			w.n, w.err = unix.Read(int(fd), w.dst)
			if w.err != unix.EINTR {
				return true
			}
		}
	}
	w.rearm = func(fd uintptr) { w.cerr = unix.EpollCtl(w.p.epfd, unix.EPOLL_CTL_MOD, int(fd), &w.ev) }
	return w
}

// conn is one connection. Its read state belongs to the worker running
// it; mu guards the scheduling flags.
type conn struct {
	*wsconn.Conn
	a  *Acceptor
	rc syscall.RawConn
	p  *poller
	id uint64
	h  transport.Handler

	mu      sync.Mutex
	started bool
	running bool // a worker owns the connection
	again   bool // readiness was reported while running
	dead    bool // finished: no more turns

	// Owned by the running worker.
	in       []byte  // unparsed bytes: the start of an incomplete frame
	unparsed bool    // in holds bytes not parsed yet
	skip     int64   // payload bytes still to discard
	rest     []byte  // during HandleMessage: the bytes read past its message
	w        *worker // the worker serving the connection

	tw tryWriter // used under the write lock
	// gen counts ReleaseReader calls: a worker whose HandleMessage call
	// was released finds it changed, and leaves the connection alone.
	gen atomic.Uint64
}

var _ transport.Releaser = (*conn)(nil)

// tryWrite makes one non-blocking write of b to the socket; the
// connection's write lock is held. It goes through package syscall, whose
// Write tells the race detector of the data it hands over.
func (c *conn) tryWrite(b []byte) (int, error) {
	c.tw.b, c.tw.n, c.tw.err = b, 0, nil
	if err := c.rc.Write(c.tw.fn); err != nil {
		return 0, err
	}
	n, err := c.tw.n, c.tw.err
	c.tw.b = nil
	if err == syscall.EAGAIN {
		return 0, nil
	}
	return max(n, 0), err
}

// tryWriter holds tryWrite's arguments, results and function, made once
// so that writing allocates nothing.
type tryWriter struct {
	b   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

func (t *tryWriter) write(fd uintptr) bool {
	for {
		t.n, t.err = syscall.Write(int(fd), t.b)
		if t.err != syscall.EINTR {
			return true
		}
	}
}

// Start implements [transport.Conn]: the connection joins the poller.
func (c *conn) Start(h transport.Handler) {
	c.mu.Lock()
	c.h, c.started = h, true
	dead := c.dead
	unparsed := c.unparsed // read before a worker may own the connection
	c.mu.Unlock()
	if dead {
		go h.HandleClose(transport.ErrClosed)
		return
	}
	if err := c.a.register(c); err != nil {
		c.mu.Lock()
		c.dead = true
		c.mu.Unlock()
		err = c.Finish(err)
		c.releaseIn()
		go h.HandleClose(err)
		return
	}
	if unparsed {
		c.p.schedule(c)
	}
}

// Close implements [transport.Conn]. A connection that was never started
// has no reader to finish the close handshake, so it is released at once.
func (c *conn) Close(code transport.StatusCode, reason string) error {
	c.Conn.Close(code, reason)
	c.mu.Lock()
	unstarted := !c.started && !c.dead
	if unstarted {
		c.dead = true
	}
	c.mu.Unlock()
	if unstarted {
		c.Finish(nil)
		c.releaseIn()
	}
	return nil
}

// abort shuts the socket down, which the poller reports as readable: the
// worker then reads its end and finishes the connection. It may run with
// the write lock held, so it does no more.
func (c *conn) abort() {
	c.rc.Control(func(fd uintptr) { unix.Shutdown(int(fd), unix.SHUT_RDWR) })
}

// arm registers (EPOLL_CTL_ADD) or re-arms (EPOLL_CTL_MOD) the socket.
// RawConn.Control keeps the descriptor from being closed meanwhile.
func (c *conn) arm(op int) error {
	ev := unix.EpollEvent{Events: armEvents}
	setEventID(&ev, c.id)
	var err error
	if cerr := c.rc.Control(func(fd uintptr) { err = unix.EpollCtl(c.p.epfd, op, int(fd), &ev) }); cerr != nil {
		return cerr
	}
	if err != nil {
		return fmt.Errorf("epoll: epoll_ctl: %w", err)
	}
	return nil
}

// process runs turns until the connection has nothing more to read, then
// re-arms it. It returns false when a HandleMessage call of the worker
// was released: another worker serves the connection, and this one ends.
func (c *conn) process(w *worker) bool {
	c.w = w
	for {
		// While the worker delivers, writes do not wait (see
		// wsconn.Conn.SetDelivering). A released worker leaves the flag
		// to the worker that took over.
		c.SetDelivering(true)
		r := c.turn(w)
		if r == turnReleased {
			return false
		}
		c.SetDelivering(false)
		if r == turnFinished {
			return true
		}
		// Flush on idle (see transport.Releaser), without waiting for
		// the peer: a worker serves many connections.
		c.FlushIdle()
		if err := c.rearm(w); err != nil {
			c.finish(err)
			return true
		}
		c.mu.Lock()
		if c.again {
			c.again = false
			c.mu.Unlock()
			continue
		}
		c.running = false
		c.mu.Unlock()
		return true
	}
}

// ReleaseReader implements [transport.Releaser]. The connection, with the
// bytes read past the message being delivered, goes to a new worker: one
// that replaces the released one in the pool, or a spare when the
// released one was a spare. The other connections the released worker
// had found ready, and not served yet, go to spares at once.
func (c *conn) ReleaseReader() {
	c.Released()
	// The old c.in may hold the message being delivered: it is left to
	// the released call, not reused.
	c.in, c.unparsed = nil, len(c.rest) > 0
	if c.unparsed {
		c.in = append(c.newIn(max(frameSize(c.rest), len(c.rest))), c.rest...)
	}
	c.rest = nil
	c.gen.Add(1)
	w, p := c.w, c.p
	w.passToken()
	rest := w.rest
	w.rest = nil
	if w.pooled {
		p.wg.Add(1)
		go p.worker(c)
	} else {
		p.serveOnce(c)
	}
	// The other connections of the released worker's last wait, which
	// the poller will not report again until they are served.
	for i := range rest {
		if o := p.lookup(eventID(&rest[i])); o != nil {
			p.schedule(o)
		}
	}
}

// What a turn ended with.
const (
	turnDrained  = iota // the socket has nothing more for now
	turnFinished        // the connection has ended
	turnReleased        // a HandleMessage call was released: hands off
)

// rearm is arm(EPOLL_CTL_MOD) without allocating.
func (c *conn) rearm(w *worker) error {
	w.ev = unix.EpollEvent{Events: armEvents}
	setEventID(&w.ev, c.id)
	w.cerr = nil
	if err := c.rc.Control(w.rearm); err != nil {
		return err
	}
	if w.cerr != nil {
		return fmt.Errorf("epoll: epoll_ctl: %w", w.cerr)
	}
	return nil
}

// turn reads and delivers what the socket holds, up to maxReadsPerTurn
// reads.
func (c *conn) turn(w *worker) int {
	buf := w.buf
	if c.unparsed {
		c.unparsed = false
		if r := c.consume(c.in); r != turnDrained {
			return r
		}
	}
	for i := 0; i < maxReadsPerTurn; i++ {
		dst := buf
		if len(c.in) > 0 {
			c.growIn()
			dst = c.in[len(c.in):cap(c.in)]
		}
		n, err := c.read(w, dst)
		if err == unix.EAGAIN {
			return turnDrained
		}
		if err != nil || n == 0 {
			if err == nil {
				err = io.EOF
			}
			c.finish(wsconn.ReadError(err))
			return turnFinished
		}
		var data []byte
		if len(c.in) > 0 {
			c.in = c.in[:len(c.in)+n]
			data = c.in
		} else {
			data = buf[:n]
		}
		if r := c.consume(data); r != turnDrained {
			return r
		}
		if n < len(dst) {
			// A short read drained the socket, most likely; if not, the
			// level-triggered re-arm reports it again.
			return turnDrained
		}
	}
	return turnDrained
}

// consume parses and delivers the frames in data and keeps the bytes of
// an incomplete one in c.in.
func (c *conn) consume(data []byte) int {
	used, err := c.parse(data)
	if err == errReleased {
		return turnReleased
	}
	if err != nil {
		c.finish(err)
		return turnFinished
	}
	rest := data[used:]
	switch {
	case len(rest) == 0:
		c.releaseIn()
	case len(c.in) > 0:
		// data is c.in: move the rest to its start.
		c.in = c.in[:copy(c.in, rest)]
	default:
		c.in = append(c.newIn(frameSize(rest)), rest...)
	}
	return turnDrained
}

// errReleased ends the turn of a worker whose HandleMessage call was
// released.
var errReleased = errors.New("epoll: reader released")

// parse delivers every complete frame at the start of data and returns
// how many bytes it used, or errReleased when a HandleMessage call was
// released: the connection is then another worker's.
func (c *conn) parse(data []byte) (int, error) {
	off := 0
	for off < len(data) {
		if c.skip > 0 {
			k := min(c.skip, int64(len(data)-off))
			off += int(k)
			c.skip -= k
			continue
		}
		h, hn, err := wsconn.ParseHeader(data[off:])
		if err != nil {
			return off, c.ProtocolError(err.Error())
		}
		if hn == 0 {
			return off, nil
		}
		if c.Header(h) == wsconn.Skip {
			off += hn
			c.skip = h.Length
			continue
		}
		end := off + hn + int(h.Length)
		if end > len(data) {
			return off, nil
		}
		p := data[off+hn : end]
		if h.Masked {
			ws.Cipher(p, h.Mask, 0)
		}
		off = end
		gen := c.gen.Load()
		c.rest = data[end:]
		err = c.Frame(h, p, c.h)
		if c.gen.Load() != gen {
			return off, errReleased
		}
		c.rest = nil
		if err != nil {
			return off, err
		}
	}
	return off, nil
}

// frameSize returns the length of the frame that b starts, header
// included, or the longest possible header when b does not hold its
// header yet.
func frameSize(b []byte) int {
	h, hn, err := wsconn.ParseHeader(b)
	if err != nil || hn == 0 {
		return wsconn.MaxHeaderSize
	}
	return hn + int(h.Length)
}

var pendingPool = sync.Pool{New: func() any { b := make([]byte, 0, pendingBufferSize); return &b }}

// newIn returns an empty buffer for a frame of size bytes.
func (c *conn) newIn(size int) []byte {
	if size <= pendingBufferSize {
		return (*pendingPool.Get().(*[]byte))[:0]
	}
	return make([]byte, 0, size)
}

// growIn makes room in c.in for the rest of its frame.
func (c *conn) growIn() {
	if size := frameSize(c.in); size > cap(c.in) {
		in := append(c.newIn(size), c.in...)
		c.releaseIn()
		c.in = in
	}
}

func (c *conn) releaseIn() {
	if cap(c.in) == pendingBufferSize {
		b := c.in[:0]
		pendingPool.Put(&b)
	}
	c.in = nil
}

// read reads once from the non-blocking socket. RawConn.Read keeps the
// descriptor from being closed meanwhile; the function returns true, so
// it never waits.
func (c *conn) read(w *worker, dst []byte) (int, error) {
	w.dst = dst
	if err := c.rc.Read(w.read); err != nil {
		return 0, err
	}
	w.dst = nil
	return max(w.n, 0), w.err
}

// finish ends the connection: out of the poller, socket closed,
// HandleClose called from a goroutine of its own.
func (c *conn) finish(err error) {
	c.mu.Lock()
	c.dead = true
	c.mu.Unlock()
	c.rc.Control(func(fd uintptr) { unix.EpollCtl(c.p.epfd, unix.EPOLL_CTL_DEL, int(fd), nil) })
	err = c.Finish(err)
	c.releaseIn()
	c.a.unregister(c)
	go c.h.HandleClose(err)
}
