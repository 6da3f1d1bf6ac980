package clientgo

import (
	"crypto/tls"
	"log/slog"
	"net/http"
	"time"

	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/transport"
)

// Default settings of a [Client].
const (
	// DefaultDialTimeout bounds each connection attempt ([WithDialTimeout]).
	DefaultDialTimeout = 10 * time.Second
	// DefaultKeepaliveInterval is the silence after which the client pings
	// the server ([WithKeepalive]).
	DefaultKeepaliveInterval = 30 * time.Second
	// DefaultKeepaliveTimeout is how long the client waits for the pong.
	DefaultKeepaliveTimeout = 15 * time.Second
	// DefaultStreamItems is how many messages a response stream holds for
	// its consumer ([WithStreamBuffer]).
	DefaultStreamItems = 1024
	// DefaultStreamBytes is how many payload bytes a response stream holds
	// for its consumer ([WithStreamBuffer]).
	DefaultStreamBytes = 8 << 20
	// DefaultSlowConsumerTimeout is how long the consumer of a stream whose
	// buffer is full may take nothing before the stream is cancelled
	// ([WithSlowConsumerTimeout]).
	DefaultSlowConsumerTimeout = time.Second
	// DefaultSendQueueBytes bounds the frames waiting to be written to the
	// connection; past it, Send on a stream waits.
	DefaultSendQueueBytes = 1 << 20
)

// Option configures a [Client]; pass options to [Dial].
type Option interface {
	applyToClient(*config)
}

type optionFunc func(*config)

func (f optionFunc) applyToClient(c *config) { f(c) }

type config struct {
	dialer        transport.Dialer
	header        http.Header
	httpClient    *http.Client
	tlsConfig     *tls.Config
	dialTimeout   time.Duration
	readLimit     int64
	logger        *slog.Logger
	reconnect     ReconnectPolicy
	noReconnect   bool
	pingInterval  time.Duration
	pingTimeout   time.Duration
	streamItems   int
	streamBytes   int
	slowConsumer  time.Duration
	sendQueue     int
	stateHook     func(State, error)
	dialerOptions *transport.DialOptions
}

func newConfig(opts []Option) *config {
	c := &config{
		dialer:       transport.WebSocket{},
		dialTimeout:  DefaultDialTimeout,
		logger:       slog.New(slog.DiscardHandler),
		pingInterval: DefaultKeepaliveInterval,
		pingTimeout:  DefaultKeepaliveTimeout,
		streamItems:  DefaultStreamItems,
		streamBytes:  DefaultStreamBytes,
		slowConsumer: DefaultSlowConsumerTimeout,
		sendQueue:    DefaultSendQueueBytes,
	}
	for _, o := range opts {
		if o != nil {
			o.applyToClient(c)
		}
	}
	c.reconnect = c.reconnect.withDefaults()
	hc := c.httpClient
	if c.tlsConfig != nil {
		var base *http.Transport
		if hc != nil {
			if ht, ok := hc.Transport.(*http.Transport); ok {
				base = ht.Clone()
			}
		}
		if base == nil {
			base = http.DefaultTransport.(*http.Transport).Clone()
		}
		base.TLSClientConfig = c.tlsConfig.Clone()
		nc := &http.Client{}
		if hc != nil {
			*nc = *hc
		}
		nc.Transport = base
		hc = nc
	}
	c.dialerOptions = &transport.DialOptions{
		Subprotocols: []string{rpc.Subprotocol, rpc.LegacySubprotocol},
		Header:       c.header,
		HTTPClient:   hc,
		ReadLimit:    c.readLimit,
	}
	return c
}

// WithHTTPHeader adds headers to the WebSocket upgrade request of every
// connection the client opens (authentication, cookies, tracing). Calling
// it several times merges the headers.
func WithHTTPHeader(h http.Header) Option {
	return optionFunc(func(c *config) {
		if c.header == nil {
			c.header = http.Header{}
		}
		for k, vs := range h {
			for _, v := range vs {
				c.header.Add(k, v)
			}
		}
	})
}

// WithHTTPClient sets the HTTP client that performs the upgrade request.
// When its Transport is an *http.Transport, its proxy, dialer and TLS
// settings are used. Default: a client with no timeout of its own (the dial
// timeout bounds the handshake).
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *config) { c.httpClient = hc })
}

// WithTLSConfig sets the TLS configuration for wss:// URLs (root CAs,
// client certificates, server name). It applies on top of
// [WithHTTPClient]'s transport when both are given.
func WithTLSConfig(cfg *tls.Config) Option {
	return optionFunc(func(c *config) { c.tlsConfig = cfg })
}

// WithDialTimeout bounds each connection attempt, handshake included.
// Default [DefaultDialTimeout]; zero or less means only the context given
// to [Dial] (or the client's lifetime, for reconnections) bounds it.
func WithDialTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.dialTimeout = d })
}

// WithReadLimit sets the largest frame the client accepts, in bytes; a
// larger one closes the connection (and fails its calls with
// [ErrConnectionLost]). Default: the transport's, 16 MiB for WebSocket.
func WithReadLimit(n int64) Option {
	return optionFunc(func(c *config) { c.readLimit = n })
}

// WithLogger sets the logger for connection events (losses, reconnection
// attempts, frames the client cannot use). Default: discard everything.
// A nil logger is ignored.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(c *config) {
		if l != nil {
			c.logger = l
		}
	})
}

// WithDialer sets the transport used to open connections, for instance an
// in-memory pipe in tests. Default: [transport.WebSocket].
func WithDialer(d transport.Dialer) Option {
	return optionFunc(func(c *config) {
		if d != nil {
			c.dialer = d
		}
	})
}

// WithReconnect sets how the client reconnects after losing its
// connection; zero fields take their defaults (see [ReconnectPolicy]).
// Reconnection is on by default.
func WithReconnect(p ReconnectPolicy) Option {
	return optionFunc(func(c *config) { c.reconnect, c.noReconnect = p, false })
}

// WithoutReconnect turns reconnection off: after a loss the client goes
// [StateDisconnected] for good.
func WithoutReconnect() Option {
	return optionFunc(func(c *config) { c.noReconnect = true })
}

// WithKeepalive makes the client ping the server after interval without
// any frame received, and drop the connection (failing its calls with
// [ErrConnectionLost], then reconnecting) when no pong arrives within
// timeout. This finds a server that vanished without closing the
// connection. Default [DefaultKeepaliveInterval] and
// [DefaultKeepaliveTimeout]; an interval of zero or less turns it off.
func WithKeepalive(interval, timeout time.Duration) Option {
	return optionFunc(func(c *config) {
		c.pingInterval = interval
		if timeout > 0 {
			c.pingTimeout = timeout
		}
	})
}

// WithStreamBuffer bounds what each response stream (server or
// bidirectional) holds for a consumer that has not taken it yet: at most
// items messages and bytes bytes of payload (one message larger than bytes
// is still accepted into an empty buffer). When a stream's buffer is full,
// the connection waits for its consumer; see [WithSlowConsumerTimeout].
// Defaults [DefaultStreamItems] and [DefaultStreamBytes]; zero or less
// keeps the default.
func WithStreamBuffer(items, bytes int) Option {
	return optionFunc(func(c *config) {
		if items > 0 {
			c.streamItems = items
		}
		if bytes > 0 {
			c.streamBytes = bytes
		}
	})
}

// WithSlowConsumerTimeout sets how long the consumer of a response stream
// whose buffer is full may take nothing before the stream is cancelled
// with [ErrSlowConsumer]. While a stream's buffer is full the client reads
// nothing more from the connection, so the server is slowed down (through
// TCP) to the pace of that stream's consumer, and every other call on the
// connection waits too. Every item the consumer takes restarts the count,
// so a consumer that keeps taking items, however slowly, is never
// cancelled, while one that stops receiving is cut off after d.
// Default [DefaultSlowConsumerTimeout]; a negative d never holds the
// connection back: a full buffer cancels its stream at once.
func WithSlowConsumerTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d != 0 {
			c.slowConsumer = d
		}
	})
}

// WithStateHook registers fn to be told of every state change, with the
// error that caused it (nil for [StateConnected] and [StateClosed]). fn is
// called in order, never concurrently with itself, from a goroutine of the
// client (never from the goroutine making a call), so it may call the
// client, Close included. It should return quickly: later notifications
// wait for it. Close waits for pending notifications, except when called
// while fn runs.
func WithStateHook(fn func(s State, err error)) Option {
	return optionFunc(func(c *config) { c.stateHook = fn })
}

// CallOption configures one call.
type CallOption interface {
	applyToCall(*callConfig)
}

type callConfig struct {
	md      rpc.Metadata
	header  *rpc.Metadata
	trailer *rpc.Metadata
}

type callOptionFunc func(*callConfig)

func (f callOptionFunc) applyToCall(c *callConfig) { f(c) }

func newCallConfig(opts []CallOption) callConfig {
	var cc callConfig
	for _, o := range opts {
		if o != nil {
			o.applyToCall(&cc)
		}
	}
	return cc
}

// WithMetadata adds request metadata to the call; given several times,
// the maps are merged. The client adds [rpc.TimeoutKey] itself when the
// call's context has a deadline.
func WithMetadata(md rpc.Metadata) CallOption {
	return callOptionFunc(func(c *callConfig) {
		if len(md) == 0 {
			return
		}
		if c.md == nil {
			c.md = make(rpc.Metadata, len(md))
		}
		c.md.Merge(md)
	})
}

// CaptureHeader stores the call's leading metadata in *md when the call
// ends (nil when the server sent none): it is an output of the call, where
// [WithMetadata] is an input. For unary calls that is before [Call]
// returns; for streams, before the receive (or CloseAndReceive, or Close)
// that sees the end returns.
func CaptureHeader(md *rpc.Metadata) CallOption {
	return callOptionFunc(func(c *callConfig) { c.header = md })
}

// CaptureTrailer stores the call's trailing metadata in *md when the call
// ends, as [CaptureHeader] does for leading metadata.
func CaptureTrailer(md *rpc.Metadata) CallOption {
	return callOptionFunc(func(c *callConfig) { c.trailer = md })
}
