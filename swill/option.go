package swill

import (
	"log/slog"
	"math"
	"time"

	"github.com/swillorg/swill-go/transport"
)

// Option configures a [Server].
type Option interface {
	applyToServer(*Server)
}

type optionFunc func(*Server)

func (f optionFunc) applyToServer(s *Server) { f(s) }

// WithLogger sets the logger for panics, dropped frames and closed
// connections. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(s *Server) {
		if l != nil {
			s.logger = l
		}
	})
}

// WithDebug makes internal errors and recovered panics reach the client
// in the ERROR message. Never enable it in production: messages may hold
// secrets.
func WithDebug(on bool) Option {
	return optionFunc(func(s *Server) { s.debug = on })
}

// WithTransport replaces the default [transport.WebSocket] acceptor.
func WithTransport(t transport.Acceptor) Option {
	return optionFunc(func(s *Server) {
		if t != nil {
			s.acceptor = t
		}
	})
}

// WithOriginPatterns allows browsers on other origins to connect: each
// pattern is matched (path.Match syntax) against the Origin header's host.
// By default only same-origin browser requests are accepted; clients that
// send no Origin header (servers, command-line tools) are always accepted.
func WithOriginPatterns(patterns ...string) Option {
	return optionFunc(func(s *Server) { s.originPatterns = append(s.originPatterns, patterns...) })
}

// WithInsecureSkipOriginCheck accepts browser connections from any origin.
// Only for development: it exposes the server to cross-site WebSocket
// hijacking when it relies on cookies.
func WithInsecureSkipOriginCheck() Option {
	return optionFunc(func(s *Server) { s.skipOriginCheck = true })
}

// Limits bounds what one connection may cost. A zero field takes its
// default.
type Limits struct {
	// MaxFrameSize is the largest frame accepted, in bytes. A larger one
	// closes the connection with 1009 (message too big). Default 1 MiB.
	MaxFrameSize int64
	// MaxConcurrentCalls is the number of calls one connection may have
	// open at once; a call beyond it is answered with ERROR 429.
	// Default 256.
	MaxConcurrentCalls int
	// MaxQueueBytes bounds the frames waiting to be written to one
	// connection, counted by the memory they hold (a small frame costs
	// its pooled buffer, not only its bytes). Past it, server-stream
	// handlers wait (their sends on out block) until the client reads;
	// unary results and control frames still go into the queue, which
	// the concurrent-call limit bounds. After a CANCEL, the frames of
	// that call still queued are dropped. A client that reads nothing
	// for WriteTimeout is disconnected. Default 1 MiB.
	MaxQueueBytes int
	// MaxStreamItems bounds the client-stream items waiting for a slow
	// handler; past it the call fails with ERROR 429. Default 1024.
	MaxStreamItems int
	// WriteTimeout is how long the client may accept nothing while a
	// write to it waits before the connection is closed as unresponsive.
	// It measures progress, not the length of a write: a client that
	// reads, however slowly, is not cut off. Default 10s. The server
	// passes it to the transport (transport.AcceptOptions.WriteTimeout);
	// a transport's own WriteTimeout, when set, wins.
	WriteTimeout time.Duration
	// PingInterval is how often an idle connection is pinged; a
	// connection whose ping is not answered within PingTimeout is
	// closed. Default 30s; negative disables keepalive.
	PingInterval time.Duration
	// PingTimeout bounds the wait for a pong. Default 15s.
	PingTimeout time.Duration
	// IdleTimeout closes a connection that has had no open call and
	// received no frame for this long. Default 0: never, because swill
	// connections are meant to live long (subscriptions, pages left
	// open) and keepalive already removes dead peers.
	IdleTimeout time.Duration
	// ReadTimeout bounds how long the rest of a message may take to
	// arrive once the server has started reading it: a client that sends
	// a frame a byte at a time is closed with 1008 (policy violation)
	// when it runs out. Between messages nothing is bounded but
	// keepalive, which closes a connection that does not answer its ping
	// (a client stuck in the middle of a frame cannot) within
	// PingInterval+PingTimeout. Default 30s. Only applies to the default
	// transport.
	//
	// The HTTP handshake that precedes the connection is read by the
	// user's [http.Server]: set its ReadHeaderTimeout (the examples use
	// 10s), or a client that sends its request headers slowly holds a
	// goroutine and a socket for as long as it likes.
	ReadTimeout time.Duration
	// MaxConnections bounds the connections the server holds at once,
	// handshakes in progress included: past it, ServeHTTP refuses the
	// upgrade with HTTP 503 and a Retry-After header. Connections given
	// to [Server.ServeConn] are not counted. Default 0: no limit.
	MaxConnections int
	// MaxConnectionsPerIP bounds the connections from one IP address (the
	// host of the request's RemoteAddr: behind a proxy, set RemoteAddr
	// from the forwarded address in a middleware you trust): past it,
	// ServeHTTP refuses the upgrade with HTTP 429 and a Retry-After
	// header. Default 0: no limit.
	MaxConnectionsPerIP int
	// CallsPerSecond limits the rate at which one connection may open
	// calls, with a token bucket holding CallBurst calls that refills at
	// this rate: a call beyond it is answered with ERROR 429 whose
	// metadata holds the milliseconds until the next one is allowed,
	// under [rpc.RetryAfterKey]. The connection stays open. Default 0: no
	// limit.
	CallsPerSecond float64
	// CallBurst is the size of the CallsPerSecond bucket: how many calls
	// a connection may open at once after a quiet spell. Default
	// CallsPerSecond rounded up (at least 1).
	CallBurst int
}

func (l Limits) withDefaults() Limits {
	if l.MaxFrameSize <= 0 {
		l.MaxFrameSize = 1 << 20
	}
	if l.MaxConcurrentCalls <= 0 {
		l.MaxConcurrentCalls = 256
	}
	if l.MaxQueueBytes <= 0 {
		l.MaxQueueBytes = 1 << 20
	}
	if l.MaxStreamItems <= 0 {
		l.MaxStreamItems = 1024
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = 10 * time.Second
	}
	if l.PingInterval == 0 {
		l.PingInterval = 30 * time.Second
	}
	if l.PingTimeout <= 0 {
		l.PingTimeout = 15 * time.Second
	}
	if l.ReadTimeout <= 0 {
		l.ReadTimeout = 30 * time.Second
	}
	if l.CallsPerSecond > 0 && l.CallBurst <= 0 {
		l.CallBurst = max(1, int(math.Ceil(l.CallsPerSecond)))
	}
	return l
}

// WithInlineBudget sets how long a unary call may hold the goroutine that
// read its request. On a transport that can hand its reading over to a
// new goroutine ([transport.Releaser]: the default one, gobwasws and epoll), a
// unary call runs where its request was read, and the responses to a
// burst of requests leave with one write: that spares waking two
// goroutines on the path of every call. When a call runs for longer than
// budget, the connection is read by a new goroutine while the call
// finishes, so the connection's other calls, and the CANCEL of this one,
// wait at most about one and a half budgets. Default 1ms; zero or
// negative runs every call on a worker goroutine, as on other
// transports.
func WithInlineBudget(budget time.Duration) Option {
	return optionFunc(func(s *Server) { s.watchdog.budget = max(budget, 0) })
}

// WithLimits sets the per-connection limits; zero fields keep their
// defaults.
func WithLimits(l Limits) Option {
	return optionFunc(func(s *Server) { s.limits = l })
}

// WithHooks adds lifecycle hooks. It may be given several times; the hooks
// of each stage run in the order they were given.
func WithHooks(h Hooks) Option {
	return optionFunc(func(s *Server) { s.hooks.add(h) })
}

// WithInterceptors adds interceptors around every handler. The first one
// given is the outermost.
func WithInterceptors(ics ...Interceptor) Option {
	return optionFunc(func(s *Server) { s.interceptors = append(s.interceptors, ics...) })
}

// WithValidator replaces the validator run on every request message before
// the handler sees it; the default is [ValidateMethods]. Package validate
// provides one that checks go-playground validate struct tags first:
// swill.WithValidator(validate.New()). Nil disables validation.
func WithValidator(v Validator) Option {
	return optionFunc(func(s *Server) { s.validator = v; s.validatorSet = true })
}

// WithoutIntrospection removes the built-in swill.introspect and
// swill.describe calls.
func WithoutIntrospection() Option {
	return optionFunc(func(s *Server) { s.noIntrospection = true })
}

// WithVersion sets the service version reported by swill.describe.
func WithVersion(v string) Option {
	return optionFunc(func(s *Server) { s.version = v })
}
