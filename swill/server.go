package swill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// Server serves registered handlers over swill/1. It is an [http.Handler]:
// mount it at the WebSocket path of any router. Create it with [NewServer],
// register handlers with [Server.Register], and stop it with
// [Server.Shutdown].
type Server struct {
	logger          *slog.Logger
	debug           bool
	acceptor        transport.Acceptor
	originPatterns  []string
	skipOriginCheck bool
	limits          Limits
	hooks           hookSet
	interceptors    []Interceptor
	validator       Validator
	validatorSet    bool
	noIntrospection bool
	version         string

	regMu      sync.RWMutex
	handlers   map[string]*route
	order      []*Handler
	extensions []Extension
	regGen     int           // counts the changes to handlers and extensions
	described  describeCache // what Describe built last

	mu       sync.Mutex
	conns    map[*Conn]struct{}
	held     int            // connections counted against MaxConnections
	perIP    map[string]int // connections counted against MaxConnectionsPerIP
	shutdown bool
	callDone chan struct{} // signalled when a call ends during shutdown
	draining chan struct{} // closed when Shutdown begins; see Call.Draining
	janitor  chan struct{} // closed to stop the keepalive loop

	closing    atomic.Bool // Shutdown has begun: new calls get 503
	baseCtx    context.Context
	baseCancel context.CancelFunc
	wg         sync.WaitGroup // every goroutine the server owns
	workers    workerPool     // the goroutines calls run on
	watchdog   watchdog       // releases the readers of long inline calls
}

// NewServer returns a server configured by opts, with the built-in
// introspection calls registered unless [WithoutIntrospection] is given.
func NewServer(opts ...Option) *Server {
	s := &Server{
		logger:   slog.New(slog.DiscardHandler),
		acceptor: transport.WebSocket{},
		handlers: map[string]*route{},
		conns:    map[*Conn]struct{}{},
		callDone: make(chan struct{}, 1),
		draining: make(chan struct{}),
	}
	s.workers.wg, s.workers.idleTime = &s.wg, workerIdleTime
	s.watchdog.budget = defaultInlineBudget
	for _, o := range opts {
		o.applyToServer(s)
	}
	s.limits = s.limits.withDefaults()
	if !s.validatorSet {
		s.validator = methodValidator{}
	}
	s.baseCtx, s.baseCancel = context.WithCancel(context.Background())
	if !s.noIntrospection {
		for _, h := range builtinHandlers(s) {
			s.handlers[h.name] = s.newRoute(h)
		}
	}
	return s
}

// Register adds handlers. It fails, registering none of them, when a
// handler was built with a mistake (nil function, a type MsgPack cannot
// carry), when a name is taken, or when a name starts with the reserved
// prefix "swill.": each refused handler is a [*RegisterError], which
// [errors.Is] matches against [ErrDuplicateName] and its siblings.
func (s *Server) Register(hs ...*Handler) error {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	seen := map[string]bool{}
	var errs []error
	for _, h := range hs {
		switch {
		case h == nil:
			errs = append(errs, &RegisterError{Err: ErrNilHandler})
		case h.err != nil:
			errs = append(errs, h.err)
		case strings.HasPrefix(h.name, "swill."):
			errs = append(errs, &RegisterError{Name: h.name, Err: ErrReservedName})
		case s.handlers[h.name] != nil || seen[h.name]:
			errs = append(errs, &RegisterError{Name: h.name, Err: ErrDuplicateName})
		}
		if h != nil {
			seen[h.name] = true
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, h := range hs {
		s.handlers[h.name] = s.newRoute(h)
		s.order = append(s.order, h)
	}
	s.regGen++
	return nil
}

// Extension is a package that serves built-in calls on a server, as
// package pubsub's Hub serves swill.subscribe and its siblings. Mount it
// with [Server.Mount].
type Extension interface {
	// Builtins returns the extension's calls. Their names start with the
	// reserved prefix "swill.", and, like swill.introspect, they are left
	// out of [Server.Handlers] and of swill.introspect's listing.
	Builtins() []*Handler
}

// ChannelDescriber is an optional interface of an [Extension] that
// serves publish/subscribe channels, as package pubsub's Hub does: the
// channels it declares are listed, with their message types, in the
// document swill.describe returns ([introspect.Document].Channels).
// swill.introspect, which speaks the reference Swill format, lists none.
type ChannelDescriber interface {
	// DescribeChannels returns the extension's declared channels, in
	// declaration order. It is called when the document is built, once
	// after each Register or Mount.
	DescribeChannels() []introspect.ChannelSpec
}

// Mount registers the built-in calls of extensions. It fails, mounting
// none of them, when a handler was built with a mistake, when a name does
// not start with "swill." or is taken; the errors are those of
// [Server.Register].
func (s *Server) Mount(exts ...Extension) error {
	s.regMu.Lock()
	defer s.regMu.Unlock()
	seen := map[string]bool{}
	var hs []*Handler
	var errs []error
	for _, ext := range exts {
		for _, h := range ext.Builtins() {
			switch {
			case h == nil:
				errs = append(errs, &RegisterError{Err: ErrNilHandler})
				continue
			case h.err != nil:
				errs = append(errs, h.err)
			case !strings.HasPrefix(h.name, "swill."):
				errs = append(errs, &RegisterError{Name: h.name, Err: fmt.Errorf("a built-in call's name must start with \"swill.\": %w", ErrReservedName)})
			case s.handlers[h.name] != nil || seen[h.name]:
				errs = append(errs, &RegisterError{Name: h.name, Err: ErrDuplicateName})
			}
			seen[h.name] = true
			hs = append(hs, h)
		}
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, h := range hs {
		s.handlers[h.name] = s.newRoute(h)
	}
	s.extensions = append(s.extensions, exts...)
	s.regGen++
	return nil
}

// Handlers returns the registered handlers in registration order, without
// the built-in ones.
func (s *Server) Handlers() []*Handler {
	s.regMu.RLock()
	defer s.regMu.RUnlock()
	return append([]*Handler(nil), s.order...)
}

// registry returns the registered handlers, the declared channels of the
// mounted extensions and the generation of the registry they are from.
func (s *Server) registry() ([]*Handler, []introspect.ChannelSpec, int) {
	s.regMu.RLock()
	hs, exts, gen := append([]*Handler(nil), s.order...), s.extensions, s.regGen
	s.regMu.RUnlock()
	var channels []introspect.ChannelSpec
	for _, ext := range exts {
		if d, ok := ext.(ChannelDescriber); ok {
			channels = append(channels, d.DescribeChannels()...)
		}
	}
	return hs, channels, gen
}

func (s *Server) lookup(name []byte) *route {
	s.regMu.RLock()
	r := s.handlers[string(name)]
	s.regMu.RUnlock()
	return r
}

// route is a handler as this server runs it, with what can be decided
// once instead of on every call.
type route struct {
	h        *Handler
	unary    UnaryFunc  // h.unary inside the interceptors
	stream   StreamFunc // h.stream inside the interceptors
	validate bool       // the validator may have something to check in a request
}

func (s *Server) newRoute(h *Handler) *route {
	r := &route{h: h, validate: s.validator != nil}
	if _, ok := s.validator.(methodValidator); ok {
		r.validate = reachesMethod(reflect.PointerTo(h.reqType))
	}
	if h.unary != nil {
		r.unary = s.unaryChain(h)
	}
	if h.stream != nil {
		r.stream = s.streamChain(h)
	}
	return r
}

// Version returns the service version given with [WithVersion].
func (s *Server) Version() string { return s.version }

// ServeHTTP upgrades r to a swill/1 connection. It answers 426 to a
// request that is not a WebSocket upgrade, 400 when the client offers
// neither swill.v1 nor swill/1, 403 for an origin that is not allowed,
// the status a BeforeConnection hook chooses when it refuses, 503 past
// Limits.MaxConnections, 429 past Limits.MaxConnectionsPerIP, and 503
// once Shutdown has begun.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.isShuttingDown() {
		http.Error(w, "swill: server shutting down", http.StatusServiceUnavailable)
		return
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "swill: this endpoint speaks swill/1 over WebSocket; send a WebSocket upgrade request", http.StatusUpgradeRequired)
		return
	}
	if !offersSubprotocol(r) {
		http.Error(w, fmt.Sprintf("swill: offer the WebSocket subprotocol %q (or %q)", rpc.Subprotocol, rpc.LegacySubprotocol), http.StatusBadRequest)
		return
	}
	slot, status := s.takeSlot(r)
	if status != 0 {
		w.Header().Set("Retry-After", "1")
		http.Error(w, "swill: too many connections", status)
		return
	}
	if err := s.hooks.beforeConnection(r); err != nil {
		s.releaseSlot(slot)
		status, body := http.StatusForbidden, "swill: connection refused"
		var e *rpc.Error
		if errors.As(err, &e) {
			if int(e.Code) >= 400 && int(e.Code) <= 599 {
				status = int(e.Code)
			}
			body = e.Message
		}
		http.Error(w, body, status)
		return
	}
	tc, err := s.acceptor.Accept(w, r, &transport.AcceptOptions{
		Subprotocols:       []string{rpc.Subprotocol, rpc.LegacySubprotocol},
		OriginPatterns:     s.originPatterns,
		InsecureSkipVerify: s.skipOriginCheck,
		ReadLimit:          s.limits.MaxFrameSize,
		WriteTimeout:       s.limits.WriteTimeout,
		ReadTimeout:        s.limits.ReadTimeout,
	})
	if err != nil {
		s.releaseSlot(slot)
		s.logger.Debug("swill: upgrade failed", "remote", r.RemoteAddr, "err", err)
		return
	}
	s.serve(tc, r, slot)
}

// ServeConn serves an already established connection, for transports that
// do not go through ServeHTTP (for instance package memtransport). r
// describes the peer; it may be nil.
func (s *Server) ServeConn(tc transport.Conn, r *http.Request) {
	s.serve(tc, r, connSlot{})
}

func (s *Server) serve(tc transport.Conn, r *http.Request, slot connSlot) {
	c := newConn(s, tc, r)
	c.slot = slot
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		s.releaseSlot(slot)
		tc.Close(transport.StatusGoingAway, "server shutting down")
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	if s.janitor == nil && s.limits.PingInterval > 0 {
		s.janitor = make(chan struct{})
		s.wg.Add(1)
		go s.keepalive(s.janitor)
	}
	s.mu.Unlock()
	if s.hooks.hasAfterAccept() {
		if err := s.hooks.afterAccept(c.Context(), c); err != nil {
			s.logger.Info("swill: connection refused by hook", "conn", c.id, "err", err)
			c.refused = true
			tc.Start(c.handler())
			c.closeWith(transport.StatusPolicyViolation, closeReason(err))
			return
		}
	}
	tc.Start(c.handler())
}

func closeReason(err error) string {
	var e *rpc.Error
	msg := "refused"
	if errors.As(err, &e) {
		msg = e.Message
	}
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

func (s *Server) removeConn(c *Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.releaseSlot(c.slot)
	s.wg.Done()
}

// connSlot is a connection's place among those MaxConnections and
// MaxConnectionsPerIP count.
type connSlot struct {
	held bool
	ip   string // "" when MaxConnectionsPerIP is off
}

// takeSlot counts a connection from r against the connection limits, or
// returns the HTTP status that refuses it: 503 past MaxConnections, 429
// past MaxConnectionsPerIP.
func (s *Server) takeSlot(r *http.Request) (connSlot, int) {
	l := &s.limits
	if l.MaxConnections <= 0 && l.MaxConnectionsPerIP <= 0 {
		return connSlot{}, 0
	}
	slot := connSlot{held: true}
	if l.MaxConnectionsPerIP > 0 {
		slot.ip = r.RemoteAddr
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			slot.ip = host
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.MaxConnections > 0 && s.held >= l.MaxConnections {
		return connSlot{}, http.StatusServiceUnavailable
	}
	if l.MaxConnectionsPerIP > 0 && s.perIP[slot.ip] >= l.MaxConnectionsPerIP {
		return connSlot{}, http.StatusTooManyRequests
	}
	s.held++
	if l.MaxConnectionsPerIP > 0 {
		if s.perIP == nil {
			s.perIP = map[string]int{}
		}
		s.perIP[slot.ip]++
	}
	return slot, 0
}

func (s *Server) releaseSlot(slot connSlot) {
	if !slot.held {
		return
	}
	s.mu.Lock()
	s.held--
	if s.limits.MaxConnectionsPerIP > 0 {
		if n := s.perIP[slot.ip] - 1; n > 0 {
			s.perIP[slot.ip] = n
		} else {
			delete(s.perIP, slot.ip)
		}
	}
	s.mu.Unlock()
}

func (s *Server) isShuttingDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// Shutdown stops the server gracefully: new connections are refused
// (HTTP 503) and new calls too (ERROR 503), running calls may finish
// until ctx ends, then every remaining call ends with ERROR 503 "server
// shutting down" and its handler's context is cancelled, and every
// connection is closed with 1001 (going away) once the frames queued
// before are written. Every 503 carries a retry hint (100 ms under
// [rpc.RetryAfterKey]): the call may be tried again at once on another
// server, which the clients reconnect to. Shutdown returns once every
// goroutine the server started has ended; handlers must honour their
// context for that to be prompt. The error is ctx.Err() when calls had
// to be ended.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.shutdown {
		close(s.draining)
	}
	s.shutdown = true
	s.closing.Store(true)
	if s.janitor != nil {
		close(s.janitor)
		s.janitor = nil
	}
	s.mu.Unlock()

	var result error
	for s.activeCalls() > 0 {
		select {
		case <-s.callDone:
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			result = ctx.Err()
		}
		if result != nil {
			break
		}
	}
	s.baseCancel()
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.failCalls(errShuttingDown())
		c.closeWith(transport.StatusGoingAway, "server shutting down")
	}
	s.workers.stop()
	s.watchdog.stop()
	s.wg.Wait()
	return result
}

// shutdownRetryMillis is the retry hint of the 503s of a server shutting
// down: no wait is needed for another server, only the reconnection.
const shutdownRetryMillis = 100

// errShuttingDown returns the error of a call refused, or ended, by a
// server shutting down.
func errShuttingDown() *rpc.Error {
	return &rpc.Error{Code: rpc.CodeUnavailable, Message: "server shutting down",
		Metadata: rpc.Metadata{rpc.RetryAfterKey: shutdownRetryMillis}}
}

func (s *Server) activeCalls() int {
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	n := 0
	for _, c := range conns {
		n += c.activeCalls()
	}
	return n
}

func (s *Server) notifyCallDone() {
	select {
	case s.callDone <- struct{}{}:
	default:
	}
}

// keepalive pings every connection each PingInterval and closes those
// that do not answer, or that have been idle past IdleTimeout. One
// goroutine serves all connections, so an idle connection costs none.
func (s *Server) keepalive(stop chan struct{}) {
	defer s.wg.Done()
	t := time.NewTicker(s.limits.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		conns := make([]*Conn, 0, len(s.conns))
		for c := range s.conns {
			conns = append(conns, c)
		}
		s.mu.Unlock()
		now := time.Now()
		for _, c := range conns {
			if s.limits.IdleTimeout > 0 && c.activeCalls() == 0 && now.Sub(c.lastActivity()) > s.limits.IdleTimeout {
				c.closeWith(transport.StatusNormalClosure, "idle timeout")
				continue
			}
			if now.Sub(c.lastActivity()) < s.limits.PingInterval {
				continue // traffic proves the peer is alive
			}
			c.goTracked(c.keepalive)
		}
	}
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

func offersSubprotocol(r *http.Request) bool {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if t == rpc.Subprotocol || t == rpc.LegacySubprotocol {
				return true
			}
		}
	}
	return false
}
