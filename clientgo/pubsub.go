package clientgo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"time"

	"github.com/swillorg/swill-go/rpc"
)

// ErrUnrecovered is what [Subscription.Recv] returns, once, when the
// subscription came back after an interruption (a lost connection, or the
// server ending it with 429 or 503) but the publications it missed could
// not be recovered: the channel keeps no history, the gap was larger than
// its history, the history expired or was lost (another epoch), or the
// subscription is to a pattern or the inbox, which never recover. It is
// also returned first when the position given with [Since] could not be
// recovered. The subscription is live again when it is returned: the next
// Recv returns the next live publication. An application that keeps state
// built from the channel reloads it (for instance with [History]) when it
// sees this error.
var ErrUnrecovered = errors.New("clientgo: publications were missed and cannot be recovered")

// Message is one item of a subscription: a publication (Data, with its
// Offset) or, on channels the server declared with joins and leaves, a
// subscriber that joined (Join) or left (Leave). Exactly one of Data,
// Join and Leave is meaningful; [Message.Kind] says which.
type Message[T any] struct {
	// Channel is the channel of the publication; for a pattern
	// subscription, the channel that matched.
	Channel string `msgpack:"channel"`
	// Data is the published message; the zero T for a join or leave.
	Data T `msgpack:"data"`
	// Offset is the publication's place in its channel's history, counted
	// from 1; 0 on channels without history, and for joins and leaves.
	Offset uint64 `msgpack:"offset"`
	// Join is set when the item is a join.
	Join *rpc.ClientInfo `msgpack:"join"`
	// Leave is set when the item is a leave.
	Leave *rpc.ClientInfo `msgpack:"leave"`
}

// MessageKind tells publications, joins and leaves apart.
type MessageKind int

// The kinds of [Message].
const (
	// KindPublication is a published message, in Data.
	KindPublication MessageKind = iota
	// KindJoin is a subscriber that joined the channel, in Join.
	KindJoin
	// KindLeave is a subscriber that left the channel, in Leave.
	KindLeave
)

// String returns "publication", "join" or "leave".
func (k MessageKind) String() string {
	switch k {
	case KindJoin:
		return "join"
	case KindLeave:
		return "leave"
	}
	return "publication"
}

// Kind says whether m is a publication, a join or a leave.
func (m Message[T]) Kind() MessageKind {
	switch {
	case m.Join != nil:
		return KindJoin
	case m.Leave != nil:
		return KindLeave
	}
	return KindPublication
}

// SubscribeOption configures [Subscribe], [SubscribePattern] and [Inbox].
type SubscribeOption interface {
	applyToSubscribe(*subConfig)
}

type subConfig struct {
	since   *rpc.Position
	md      rpc.Metadata
	backoff ReconnectPolicy
}

type subOptionFunc func(*subConfig)

func (f subOptionFunc) applyToSubscribe(c *subConfig) { f(c) }

// Since makes the subscription start after pos, a position the
// application kept (from [Subscription.Position], or the Position of
// [History] to continue history without a gap): the publications after
// it come first, then live ones; if they cannot all be recovered, the
// first Recv returns [ErrUnrecovered]. Only for [Subscribe]: patterns and
// the inbox cannot recover.
func Since(pos rpc.Position) SubscribeOption {
	return subOptionFunc(func(c *subConfig) { c.since = &pos })
}

// WithSubscribeMetadata adds request metadata to the subscribe call and to
// every resubscription, for instance a token the server's subscribe hook
// checks; given several times, the maps are merged.
func WithSubscribeMetadata(md rpc.Metadata) SubscribeOption {
	return subOptionFunc(func(c *subConfig) {
		if c.md == nil {
			c.md = rpc.Metadata{}
		}
		c.md.Merge(md)
	})
}

// WithResubscribeBackoff sets how long a subscription waits before
// subscribing again after the server ended it with 429 (too slow) or 503
// (publications missed, server shutting down): the n-th attempt in a row
// waits as p says, or as the server's retry hint ([rpc.RetryAfter]) says
// when it gave one. A message received resets the count. With
// p.MaxAttempts > 0, the subscription ends with the server's error after
// that many attempts in a row. The default is the zero ReconnectPolicy's
// (100ms doubling up to 10s, never giving up). A lost connection does not
// count: the subscription waits for the client to reconnect, as the
// client's own [ReconnectPolicy] paces it.
func WithResubscribeBackoff(p ReconnectPolicy) SubscribeOption {
	return subOptionFunc(func(c *subConfig) { c.backoff = p })
}

// Subscription is a subscription to a channel, a pattern or the inbox,
// returned by [Subscribe], [SubscribePattern] and [Inbox]. Receive its
// messages with [Subscription.Recv] or range over [Subscription.All].
//
// A subscription outlives interruptions: when the connection is lost, it
// waits for the client to reconnect and subscribes again; when the server
// ends it with 429 (the connection could not keep up) or 503 (publications
// were missed), it subscribes again after a backoff. A channel
// subscription asks the server for every publication after the last one
// it received (its [Subscription.Position]) and gets exactly those, in
// order, without duplicates; when they cannot be recovered, Recv returns
// [ErrUnrecovered] once and the subscription goes on live. The
// resubscription is made by Recv: while the application is not in Recv,
// nothing is resubscribed, and on channels with history nothing is lost
// by that either.
//
// It ends when its context ends (the client sends CANCEL), with
// [Subscription.Close], with the client's [Client.Close], when the server
// ends it normally (Recv returns [io.EOF]: an unsubscribe, or a second
// subscription to the same channel on the same client, which replaces
// this one) and with a final error from the server (an [*rpc.Error] such
// as 401, 403 or 404), or [ErrConnectionLost] once the client has given
// up reconnecting.
//
// Recv and All must not be called from several goroutines at once;
// Position, Channel and Close may be called from any goroutine.
type Subscription[T any] struct {
	c       *Client
	name    string // the call: rpc.SubscribeRPC or rpc.InboxRPC
	channel string
	pattern bool
	cfg     subConfig
	ctx     context.Context
	cancel  context.CancelCauseFunc

	// Owned by the goroutine in Recv.
	st          *ServerStream[Message[T]]
	unrecovered bool  // ErrUnrecovered is due
	attempt     int   // resubscriptions after 429 or 503 in a row
	err         error // why the subscription ended, once it has

	mu  sync.Mutex
	pos rpc.Position
}

// Subscribe subscribes to channel and returns once the server has
// confirmed it (its METADATA frame arrived): publications made from then
// on reach the subscription. It fails with the server's error (an
// [*rpc.Error]: 401 or 403 from its subscribe hook, 404 for a channel it
// does not declare) or with ctx.Err(); an interruption before the
// confirmation (lost connection, 429, 503) is retried as it is later.
//
// ctx bounds the whole subscription. The messages are decoded into T as
// a call's results are (see the package doc); a message that does not
// decode ends the subscription with the decoding error.
func Subscribe[T any](ctx context.Context, c *Client, channel string, opts ...SubscribeOption) (*Subscription[T], error) {
	return subscribe[T](ctx, c, rpc.SubscribeRPC, channel, false, opts)
}

// SubscribePattern subscribes to every channel whose name matches
// pattern, a glob as Redis's PSUBSCRIBE reads it: * matches any run of
// characters, ? one character, [abc] and [a-z] one of a set, and \
// escapes. Each message names its channel. A pattern subscription comes
// back after interruptions as [Subscribe]'s does but cannot recover what
// it missed: Recv returns [ErrUnrecovered] after each one. [Since] is not
// allowed.
func SubscribePattern[T any](ctx context.Context, c *Client, pattern string, opts ...SubscribeOption) (*Subscription[T], error) {
	return subscribe[T](ctx, c, rpc.SubscribeRPC, pattern, true, opts)
}

// Inbox opens the client's inbox: the publications of the channels the
// server subscribed this connection to on its own (pubsub's
// Hub.Subscribe, for instance to a user's channel from a connect hook).
// Messages name their channel. Publications made before the inbox is
// open are not delivered; after a reconnection the inbox is opened again
// and Recv returns [ErrUnrecovered] first, as for a pattern. [Since] is
// not allowed.
func Inbox[T any](ctx context.Context, c *Client, opts ...SubscribeOption) (*Subscription[T], error) {
	return subscribe[T](ctx, c, rpc.InboxRPC, "", false, opts)
}

func subscribe[T any](ctx context.Context, c *Client, name, channel string, pattern bool, opts []SubscribeOption) (*Subscription[T], error) {
	var cfg subConfig
	for _, o := range opts {
		if o != nil {
			o.applyToSubscribe(&cfg)
		}
	}
	switch {
	case name == rpc.SubscribeRPC && channel == "":
		return nil, errors.New("clientgo: subscribe: empty channel name")
	case cfg.since != nil && (pattern || name == rpc.InboxRPC):
		return nil, errors.New("clientgo: subscribe: Since is for channels; a pattern or the inbox cannot recover")
	}
	cfg.backoff = cfg.backoff.withDefaults()
	s := &Subscription[T]{c: c, name: name, channel: channel, pattern: pattern, cfg: cfg}
	s.ctx, s.cancel = context.WithCancelCause(ctx)
	if err := s.open(false); err != nil {
		s.cancel(err)
		return nil, err
	}
	return s, nil
}

// recovers reports whether the subscription asks for what it missed.
func (s *Subscription[T]) recovers() bool { return s.name == rpc.SubscribeRPC && !s.pattern }

// open makes the subscribe call and waits for its leading metadata,
// retrying interruptions; resume is true for a resubscription.
func (s *Subscription[T]) open(resume bool) error {
	for {
		var req any
		var since *rpc.Position
		if s.name == rpc.SubscribeRPC {
			r := rpc.SubscribeRequest{Channel: s.channel, Pattern: s.pattern}
			if resume && s.recovers() {
				pos := s.Position()
				since = &pos
			} else if !resume {
				since = s.cfg.since
			}
			r.Since = since
			req = r
		}
		st, err := CallServerStream[any, Message[T]](s.ctx, s.c, s.name, req, WithMetadata(s.cfg.md))
		if err == nil {
			var md rpc.Metadata
			md, err = st.WaitHeader(s.ctx)
			if err == nil && md == nil {
				// Ended without confirming: END_OF_STREAM or an error.
				if _, err = st.Recv(); err == nil {
					err = &protocolError{reason: s.name + " sent an item before its leading metadata"}
				}
			}
			if err == nil {
				s.live(st, md, since, resume)
				return nil
			}
			st.Close()
		}
		if err = s.retry(err); err != nil {
			return err
		}
	}
}

// live installs st, confirmed by its leading metadata md.
func (s *Subscription[T]) live(st *ServerStream[Message[T]], md rpc.Metadata, since *rpc.Position, resume bool) {
	s.st = st
	pos := rpc.Position{Offset: mdUint(md[rpc.PositionOffsetKey]), Epoch: md.String(rpc.PositionEpochKey)}
	recovered, _ := md[rpc.RecoveredKey].(bool)
	if since != nil && recovered {
		// The publications after since follow: the position moves as
		// they arrive.
		pos.Offset = since.Offset
	}
	s.mu.Lock()
	s.pos = pos
	s.mu.Unlock()
	if (since != nil && !recovered) || (resume && !s.recovers()) {
		s.unrecovered = true
	}
}

// retry decides what an interruption means: nil when the subscription
// should subscribe again (after waiting, for 429 and 503), or the error
// that ends it.
func (s *Subscription[T]) retry(err error) error {
	if s.ctx.Err() != nil {
		return context.Cause(s.ctx)
	}
	switch code := rpc.CodeOf(err); {
	case errors.Is(err, ErrConnectionLost):
		if st := s.c.State(); st == StateDisconnected || st == StateClosed {
			return err
		}
		return nil // the next call waits for the new connection
	case errors.Is(err, ErrSlowConsumer):
		return nil // the application was slow: recover from the history
	case rpc.IsWireError(err) && (code == rpc.CodeTooManyRequests || code == rpc.CodeUnavailable):
		s.attempt++
		if p := s.cfg.backoff; p.MaxAttempts > 0 && s.attempt > p.MaxAttempts {
			return err
		}
		d, ok := rpc.RetryAfter(err)
		if !ok {
			d = s.cfg.backoff.delay(s.attempt - 1)
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-s.ctx.Done():
			return context.Cause(s.ctx)
		}
	}
	return err
}

// Recv returns the next message, waiting for it, and subscribes again by
// itself after an interruption (see [Subscription]). It returns
// [ErrUnrecovered], with the zero Message, once for each resubscription
// that could not recover what was missed, and goes on with live messages
// at the next call. Once the subscription has ended it returns what ended
// it, then and at every later call: [io.EOF] when the server ended it
// normally, ctx.Err() when its context ended, [ErrStreamClosed] after
// [Subscription.Close], [ErrClosed] after [Client.Close], the server's
// [*rpc.Error], or [ErrConnectionLost] when the client stopped
// reconnecting.
func (s *Subscription[T]) Recv() (Message[T], error) {
	for {
		if s.err != nil {
			return Message[T]{}, s.err
		}
		if s.ctx.Err() != nil {
			s.end(context.Cause(s.ctx)) // cancelled: what is buffered is dropped
			continue
		}
		if s.unrecovered {
			s.unrecovered = false
			return Message[T]{}, ErrUnrecovered
		}
		if s.st == nil {
			if err := s.open(true); err != nil {
				s.end(err)
			}
			continue
		}
		m, err := s.st.Recv()
		if err == nil {
			s.attempt = 0
			if s.recovers() && m.Offset != 0 && m.Join == nil && m.Leave == nil {
				s.mu.Lock()
				dup := m.Offset <= s.pos.Offset
				if !dup {
					s.pos.Offset = m.Offset
				}
				s.mu.Unlock()
				if dup {
					continue // already received before an interruption
				}
			}
			return m, nil
		}
		s.st.Close()
		s.st = nil
		if err == io.EOF {
			s.end(io.EOF)
			continue
		}
		if err := s.retry(err); err != nil {
			s.end(err)
		}
	}
}

// end records why the subscription ended and releases its context.
func (s *Subscription[T]) end(err error) {
	s.err = err
	if s.st != nil {
		s.st.Close()
		s.st = nil
	}
	s.cancel(err)
}

// All returns an iterator over the subscription's messages. It yields
// each message with a nil error, and the zero Message with
// [ErrUnrecovered] when a resubscription could not recover what was
// missed, after which it goes on. When the subscription ends it stops:
// silently when the application ended it (its context ended, or
// [Subscription.Close]) and after the server's normal end ([io.EOF]);
// otherwise after yielding the zero Message with the error, once, so a
// loop must check it. Breaking out of the loop closes the subscription.
func (s *Subscription[T]) All() iter.Seq2[Message[T], error] {
	return func(yield func(Message[T], error) bool) {
		for {
			m, err := s.Recv()
			switch {
			case err == nil || err == ErrUnrecovered:
				if !yield(m, err) {
					s.Close()
					return
				}
			case err == io.EOF || s.ctx.Err() != nil && err == context.Cause(s.ctx):
				return // ended normally, or as the application asked
			default:
				yield(m, err)
				return
			}
		}
	}
}

// Channel returns the channel or pattern subscribed to ("" for the
// inbox).
func (s *Subscription[T]) Channel() string { return s.channel }

// Position returns the position of the last publication received (or,
// before any, the channel's position when the subscription started): a
// new subscription made with [Since] and this position continues where
// this one stopped. It is meaningful for channel subscriptions only.
func (s *Subscription[T]) Position() rpc.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pos
}

// Close ends the subscription (CANCEL goes to the server) and drops the
// messages not yet received; Recv then returns [ErrStreamClosed]. It is
// safe to call more than once, from any goroutine, and always returns
// nil.
func (s *Subscription[T]) Close() error {
	s.cancel(ErrStreamClosed)
	return nil
}

// mdUint reads an unsigned integer from metadata, as MsgPack decodes it.
func mdUint(v any) uint64 {
	switch n := v.(type) {
	case uint8:
		return uint64(n)
	case uint16:
		return uint64(n)
	case uint32:
		return uint64(n)
	case uint64:
		return n
	case int8:
		return uint64(max(n, 0))
	case int16:
		return uint64(max(n, 0))
	case int32:
		return uint64(max(n, 0))
	case int64:
		return uint64(max(n, 0))
	case int:
		return uint64(max(n, 0))
	case float64:
		return uint64(max(n, 0))
	}
	return 0
}

// Publish publishes msg on channel through the server's swill.publish
// call and returns the publication's position (offset 0 on a channel
// without history). The server refuses it with 403 unless its publish
// hook allows it, and with 400 when msg does not fit the channel's type.
func Publish[T any](ctx context.Context, c *Client, channel string, msg T, opts ...CallOption) (rpc.Position, error) {
	return Call[rpc.PublishRequest, rpc.Position](ctx, c, rpc.PublishRPC, rpc.PublishRequest{Channel: channel, Data: msg}, opts...)
}

// Presence returns the subscribers of channel, as the server's
// swill.presence call lists them (the channel must be declared with
// presence for the list to be kept).
func Presence(ctx context.Context, c *Client, channel string, opts ...CallOption) ([]rpc.ClientInfo, error) {
	return Call[rpc.ChannelRequest, []rpc.ClientInfo](ctx, c, rpc.PresenceRPC, rpc.ChannelRequest{Channel: channel}, opts...)
}

// historyResult is rpc.HistoryResult with its publications typed.
type historyResult[T any] struct {
	Publications []Message[T] `msgpack:"publications"`
	Position     rpc.Position `msgpack:"position"`
}

// History returns the latest publications of channel, at most limit,
// oldest first, and the channel's position: subscribing with
// [Since](pos) then continues without a gap or a duplicate ("history on
// join"). limit 0 returns the position only.
func History[T any](ctx context.Context, c *Client, channel string, limit int, opts ...CallOption) ([]Message[T], rpc.Position, error) {
	if limit < 0 {
		return nil, rpc.Position{}, fmt.Errorf("clientgo: history of %q: negative limit", channel)
	}
	res, err := Call[rpc.HistoryRequest, historyResult[T]](ctx, c, rpc.HistoryRPC, rpc.HistoryRequest{Channel: channel, Limit: limit}, opts...)
	if err != nil {
		return nil, rpc.Position{}, err
	}
	return res.Publications, res.Position, nil
}
