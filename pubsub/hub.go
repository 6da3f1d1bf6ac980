package pubsub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// Hub is the publish/subscribe of one server process: it keeps the
// subscriptions of its connections, fans publications out to them, and
// hands publications, history and presence to its [Engine]. Mount it on a
// server with [swill.Server.Mount]:
//
//	hub, err := pubsub.New(pubsub.WithChannels(pubsub.Channel[ChatMessage]("chat.*")))
//	srv := swill.NewServer()
//	err = srv.Mount(hub)
//
// A Hub is safe for concurrent use.
type Hub struct {
	engine     Engine
	specs      []*ChannelSpec
	strict     bool
	hooks      Hooks
	log        *slog.Logger
	presTTL    time.Duration
	handlers   []*swill.Handler
	engineDone chan struct{}

	mu    sync.RWMutex
	keys  map[keyID]*keySubs
	conns map[*swill.Conn]*connState

	presMu   sync.Mutex
	pres     map[presKey][]byte // the presence this process keeps alive
	presStop chan struct{}
	presDone chan struct{}
	closed   bool

	stats struct {
		published, delivered, slow, noInbox, interrupted atomic.Uint64
	}
}

type keyID struct {
	name    string
	pattern bool
}

// keySubs are the local subscribers of one channel or pattern.
type keySubs struct {
	subs []*subscription

	engMu    sync.Mutex // serializes the engine's Subscribe/Unsubscribe of the key
	engineOn bool       // the engine was told of the key; under engMu
}

type presKey struct{ channel, client string }

// connState is the pub/sub state of one connection.
type connState struct {
	mu     sync.Mutex
	subs   map[keyID]*subscription // client subscriptions, one per key
	server map[keyID]*subscription // subscriptions the server made
	inbox  atomic.Pointer[swill.Call]
}

// Hooks authorize what clients ask of a [Hub]. A nil hook allows
// subscriptions and refuses publications: without OnPublish, swill.publish
// answers 403. A hook refuses with an error; an [*rpc.Error] chooses the
// code the client sees (401, 403...), any other error is a 500.
type Hooks struct {
	// OnSubscribe runs before a client subscribes (swill.subscribe) and
	// before it reads a channel's presence or history; ctx is the call's.
	// It may set the event's User and Info, which presence shows.
	OnSubscribe func(ctx context.Context, ev *SubscribeEvent) error
	// OnPublish runs before a client's publication (swill.publish).
	OnPublish func(ctx context.Context, ev *PublishEvent) error
}

// SubscribeEvent is a subscription as [Hooks].OnSubscribe sees it.
type SubscribeEvent struct {
	// Conn is the client's connection and Call the call asking.
	Conn *swill.Conn
	Call *swill.Call
	// Channel is the channel, or the pattern when Pattern is set.
	Channel string
	Pattern bool
	// Spec is the channel's declaration; nil for an undeclared channel.
	Spec *ChannelSpec
	// User and Info, set by the hook, describe the subscriber in presence,
	// joins and leaves.
	User string
	Info any
}

// PublishEvent is a client's publication as [Hooks].OnPublish sees it.
type PublishEvent struct {
	Conn    *swill.Conn
	Call    *swill.Call
	Channel string
	Spec    *ChannelSpec
	// Data is the message: of the channel's type for a typed channel,
	// otherwise as codec.Unmarshal decodes it into an interface.
	Data any
}

// Option configures a [Hub].
type Option func(*Hub)

// WithEngine sets the engine; the default is [NewMemoryEngine]. The hub
// starts it and closes it.
func WithEngine(e Engine) Option { return func(h *Hub) { h.engine = e } }

// WithChannels declares channels (see [ChannelSpec]).
func WithChannels(specs ...*ChannelSpec) Option {
	return func(h *Hub) { h.specs = append(h.specs, specs...) }
}

// WithStrictChannels refuses channels no declaration covers: subscribing
// to one answers 404 and publishing returns an error.
func WithStrictChannels() Option { return func(h *Hub) { h.strict = true } }

// WithHooks sets the authorization hooks.
func WithHooks(hooks Hooks) Option { return func(h *Hub) { h.hooks = hooks } }

// WithLogger sets the logger of slow subscribers and engine failures; the
// default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(h *Hub) { h.log = l } }

// WithPresenceTTL sets how long a presence entry lives unless refreshed;
// the hub refreshes its own entries at a third of it. Default 30s: the
// clients of a process that died leave presence within it.
func WithPresenceTTL(d time.Duration) Option { return func(h *Hub) { h.presTTL = d } }

// New returns a hub and starts its engine.
func New(opts ...Option) (*Hub, error) {
	h := &Hub{
		log:     slog.Default(),
		presTTL: 30 * time.Second,
		keys:    map[keyID]*keySubs{},
		conns:   map[*swill.Conn]*connState{},
		pres:    map[presKey][]byte{},
	}
	for _, o := range opts {
		o(h)
	}
	if h.engine == nil {
		h.engine = NewMemoryEngine()
	}
	var errs []error
	for _, s := range h.specs {
		if err := s.check(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := h.engine.Start(context.Background(), h.deliver); err != nil {
		return nil, fmt.Errorf("pubsub: starting the engine: %w", err)
	}
	h.handlers = h.newHandlers()
	return h, nil
}

// Channels returns the channel declarations, in the order given.
func (h *Hub) Channels() []*ChannelSpec { return append([]*ChannelSpec(nil), h.specs...) }

// Engine returns the hub's engine.
func (h *Hub) Engine() Engine { return h.engine }

// Close stops the presence refresh, ends every subscription still open
// with ERROR 503, and closes the engine. Shut the server down first.
func (h *Hub) Close() error {
	h.presMu.Lock()
	if h.closed {
		h.presMu.Unlock()
		return nil
	}
	h.closed = true
	stop, done := h.presStop, h.presDone
	h.presMu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
	h.mu.RLock()
	for _, ks := range h.keys {
		for _, s := range ks.subs {
			s.end(rpc.NewError(rpc.CodeUnavailable, "pubsub: the server's hub closed"))
		}
	}
	h.mu.RUnlock()
	return h.engine.Close()
}

// Stats are the hub's counters since it started.
type Stats struct {
	// Published counts publications handed to the engine by this hub.
	Published uint64
	// Delivered counts publications queued to a subscriber's connection.
	Delivered uint64
	// SlowSubscribers counts subscriptions ended because their
	// connection's outgoing queue was full (ERROR 429).
	SlowSubscribers uint64
	// Interrupted counts subscriptions ended because publications were
	// missed between engine and hub (ERROR 503; the client resubscribes
	// and recovers from history).
	Interrupted uint64
	// Undelivered counts publications of server-made subscriptions
	// dropped because the connection had not opened swill.inbox.
	Undelivered uint64
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	return Stats{
		Published:       h.stats.published.Load(),
		Delivered:       h.stats.delivered.Load(),
		SlowSubscribers: h.stats.slow.Load(),
		Interrupted:     h.stats.interrupted.Load(),
		Undelivered:     h.stats.noInbox.Load(),
	}
}

// spec returns the declaration covering channel, or nil.
func (h *Hub) spec(channel string) *ChannelSpec {
	for _, s := range h.specs {
		if s.matches(channel) {
			return s
		}
	}
	return nil
}

func (s *ChannelSpec) publishOptions() PublishOptions {
	if s == nil {
		return PublishOptions{}
	}
	return PublishOptions{HistorySize: s.historySize, HistoryTTL: s.historyTTL}
}

// Publish publishes msg on channel to its subscribers in every process,
// through the engine, and returns the publication's position (zero for a
// channel without history). msg must be of the channel's declared type,
// if it has one. It returns an error when the publication cannot be
// scheduled (the engine is unreachable, msg does not encode); a nil error
// does not mean that anyone received it.
func (h *Hub) Publish(ctx context.Context, channel string, msg any) (rpc.Position, error) {
	spec, err := h.publishable(channel, msg)
	if err != nil {
		return rpc.Position{}, err
	}
	data, err := codec.Marshal(msg)
	if err != nil {
		return rpc.Position{}, fmt.Errorf("pubsub: encoding the message: %w", err)
	}
	return h.publishRaw(ctx, channel, spec, data)
}

func (h *Hub) publishRaw(ctx context.Context, channel string, spec *ChannelSpec, data []byte) (rpc.Position, error) {
	pos, err := h.engine.Publish(ctx, Publication{Channel: channel, Data: data}, spec.publishOptions())
	if err != nil {
		return rpc.Position{}, fmt.Errorf("pubsub: publishing on %q: %w", channel, err)
	}
	h.stats.published.Add(1)
	return pos, nil
}

// PublishLocal publishes msg on channel to the subscribers of this
// process only, without the engine: no other process sees it and no
// history keeps it (iodine's publish with engine = false).
func (h *Hub) PublishLocal(ctx context.Context, channel string, msg any) error {
	if _, err := h.publishable(channel, msg); err != nil {
		return err
	}
	data, err := codec.Marshal(msg)
	if err != nil {
		return fmt.Errorf("pubsub: encoding the message: %w", err)
	}
	h.deliverLocal(Publication{Channel: channel, Data: data})
	return nil
}

// deliverLocal hands pub to the local subscribers of its channel and of
// every pattern matching it, as an engine would.
func (h *Hub) deliverLocal(pub Publication) {
	h.mu.RLock()
	var matched []string
	for k := range h.keys {
		if k.pattern && Match(k.name, pub.Channel) {
			matched = append(matched, k.name)
		}
	}
	h.mu.RUnlock()
	h.deliver(pub.Channel, false, pub)
	for _, p := range matched {
		h.deliver(p, true, pub)
	}
}

func (h *Hub) publishable(channel string, msg any) (*ChannelSpec, error) {
	spec, err := h.lookup(channel)
	if err != nil {
		return nil, err
	}
	return spec, spec.checkMessage(msg)
}

// lookup returns the declaration covering channel (nil for an undeclared
// one), refusing an empty name (400) and, under WithStrictChannels, an
// undeclared channel (404).
func (h *Hub) lookup(channel string) (*ChannelSpec, error) {
	if channel == "" {
		return nil, rpc.NewError(rpc.CodeBadRequest, "pubsub: empty channel name")
	}
	spec := h.spec(channel)
	if spec == nil && h.strict {
		return nil, rpc.Errorf(rpc.CodeNotFound, "pubsub: no channel declared for %q", channel)
	}
	return spec, nil
}

// deliver is the engine's DeliverFunc: it encodes pub's item once and
// queues it to every local subscriber of the key.
func (h *Hub) deliver(key string, pattern bool, pub Publication) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	ks := h.keys[keyID{key, pattern}]
	if ks == nil || len(ks.subs) == 0 {
		return
	}
	ib := itemPool.Get().(*itemBuf)
	ib.b = appendItem(ib.b[:0], &pub)
	for _, s := range ks.subs {
		s.deliver(ib.b, &pub)
	}
	h.stats.delivered.Add(uint64(len(ks.subs)))
	if cap(ib.b) <= 64<<10 {
		itemPool.Put(ib)
	}
}

// add registers s under its key, and tells the engine of the key's first
// subscriber.
func (h *Hub) add(ctx context.Context, s *subscription) error {
	k := keyID{s.key, s.pattern}
	h.mu.Lock()
	ks := h.keys[k]
	if ks == nil {
		ks = &keySubs{}
		h.keys[k] = ks
	}
	s.idx = len(ks.subs)
	ks.subs = append(ks.subs, s)
	h.mu.Unlock()
	if err := h.syncEngine(ctx, k, ks); err != nil {
		h.remove(s)
		return err
	}
	return nil
}

// remove unregisters s, and tells the engine when the key's last
// subscriber left.
func (h *Hub) remove(s *subscription) {
	k := keyID{s.key, s.pattern}
	h.mu.Lock()
	ks := h.keys[k]
	if ks == nil || s.idx < 0 || s.idx >= len(ks.subs) || ks.subs[s.idx] != s {
		h.mu.Unlock()
		return
	}
	last := len(ks.subs) - 1
	ks.subs[s.idx] = ks.subs[last]
	ks.subs[s.idx].idx = s.idx
	ks.subs[last] = nil
	ks.subs = ks.subs[:last]
	s.idx = -1
	h.mu.Unlock()
	if err := h.syncEngine(context.Background(), k, ks); err != nil {
		h.log.Warn("pubsub: engine unsubscribe failed", "key", s.key, "pattern", s.pattern, "err", err)
	}
}

// syncEngine brings the engine's view of key in line with whether it has
// subscribers. One goroutine at a time does so per key, and it reads the
// count under engMu, so the engine's calls for one key stay in order and
// end in the right state whatever the interleaving.
func (h *Hub) syncEngine(ctx context.Context, k keyID, ks *keySubs) error {
	ks.engMu.Lock()
	defer ks.engMu.Unlock()
	h.mu.RLock()
	want := len(ks.subs) > 0
	h.mu.RUnlock()
	switch {
	case want && !ks.engineOn:
		if err := h.engine.Subscribe(ctx, k.name, k.pattern); err != nil {
			return rpc.Errorf(rpc.CodeUnavailable, "pubsub: subscribing to %q: %v", k.name, err)
		}
		ks.engineOn = true
	case !want && ks.engineOn:
		ks.engineOn = false
		err := h.engine.Unsubscribe(ctx, k.name, k.pattern)
		h.forget(k, ks)
		return err
	case !want:
		h.forget(k, ks)
	}
	return nil
}

// forget drops an empty key from the index; under ks.engMu.
func (h *Hub) forget(k keyID, ks *keySubs) {
	h.mu.Lock()
	if len(ks.subs) == 0 && h.keys[k] == ks {
		delete(h.keys, k)
	}
	h.mu.Unlock()
}

// connState returns the state of conn, made on first use; it is dropped
// when the connection closes, ending the subscriptions the server made.
func (h *Hub) connState(conn *swill.Conn) *connState {
	h.mu.Lock()
	cs := h.conns[conn]
	if cs == nil {
		cs = &connState{subs: map[keyID]*subscription{}, server: map[keyID]*subscription{}}
		h.conns[conn] = cs
		h.mu.Unlock()
		context.AfterFunc(conn.Context(), func() { h.dropConn(conn, cs) })
		return cs
	}
	h.mu.Unlock()
	return cs
}

func (h *Hub) dropConn(conn *swill.Conn, cs *connState) {
	h.mu.Lock()
	if h.conns[conn] == cs {
		delete(h.conns, conn)
	}
	h.mu.Unlock()
	cs.mu.Lock()
	server := cs.server
	cs.server = map[keyID]*subscription{}
	cs.mu.Unlock()
	for _, s := range server {
		h.endServer(s)
	}
}
