package pubsub

import (
	"context"
	"fmt"
	"sort"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// Message is one item of a subscription stream, and one publication of
// [Hub.History]: exactly one of Data (with Offset), Join and Leave is set.
type Message struct {
	Channel string          `msgpack:"channel"`
	Data    any             `msgpack:"data,omitempty"`
	Offset  uint64          `msgpack:"offset,omitempty"`
	Join    *rpc.ClientInfo `msgpack:"join,omitempty"`
	Leave   *rpc.ClientInfo `msgpack:"leave,omitempty"`
}

// historyResult is rpc.HistoryResult with the publications' type.
type historyResult struct {
	Publications []Message    `msgpack:"publications"`
	Position     rpc.Position `msgpack:"position"`
}

// publishRequest is rpc.PublishRequest with its data kept encoded.
type publishRequest struct {
	Channel string           `msgpack:"channel" validate:"required"`
	Data    codec.RawMessage `msgpack:"data"`
}

// Builtins returns the built-in calls of the hub, which [swill.Server.Mount]
// registers: swill.subscribe, swill.unsubscribe, swill.publish,
// swill.presence, swill.history and swill.inbox (see the constants of
// package rpc).
func (h *Hub) Builtins() []*swill.Handler { return append([]*swill.Handler(nil), h.handlers...) }

func (h *Hub) newHandlers() []*swill.Handler {
	return []*swill.Handler{
		swill.ServerPush[rpc.SubscribeRequest, Message](rpc.SubscribeRPC, h.serveSubscribe,
			swill.WithDoc("Subscribes to a channel or pattern; each item is one publication."),
			swill.WithErrors(rpc.CodeBadRequest, rpc.CodeUnauthorized, rpc.CodeForbidden, rpc.CodeNotFound, rpc.CodeTooManyRequests, rpc.CodeUnavailable)),
		swill.Unary(rpc.UnsubscribeRPC, h.serveUnsubscribe,
			swill.WithDoc("Ends this connection's subscription to a channel or pattern.")),
		swill.Unary(rpc.PublishRPC, h.servePublish,
			swill.WithDoc("Publishes a message on a channel, where the server allows clients to."),
			swill.WithErrors(rpc.CodeBadRequest, rpc.CodeUnauthorized, rpc.CodeForbidden, rpc.CodeNotFound, rpc.CodeUnavailable)),
		swill.Unary(rpc.PresenceRPC, h.servePresence,
			swill.WithDoc("Lists a channel's subscribers."),
			swill.WithErrors(rpc.CodeUnauthorized, rpc.CodeForbidden, rpc.CodeNotFound)),
		swill.Unary(rpc.HistoryRPC, h.serveHistory,
			swill.WithDoc("Returns a channel's latest publications and its position."),
			swill.WithErrors(rpc.CodeUnauthorized, rpc.CodeForbidden, rpc.CodeNotFound)),
		swill.ServerPush[codec.None, Message](rpc.InboxRPC, h.serveInbox,
			swill.WithDoc("Streams the publications of the channels the server subscribed this connection to.")),
	}
}

// authorize finds a channel's declaration and runs the subscribe hook.
func (h *Hub) authorize(ctx context.Context, channel string, pattern bool) (*SubscribeEvent, error) {
	spec, err := h.lookup(channel)
	if err != nil {
		return nil, err
	}
	call := swill.CallFromContext(ctx)
	ev := &SubscribeEvent{Conn: call.Conn(), Call: call, Channel: channel, Pattern: pattern, Spec: spec}
	if h.hooks.OnSubscribe != nil {
		if err := h.hooks.OnSubscribe(ctx, ev); err != nil {
			return nil, err
		}
	}
	return ev, nil
}

func (h *Hub) serveSubscribe(ctx context.Context, req rpc.SubscribeRequest) error {
	if req.Pattern && req.Since != nil {
		return rpc.NewError(rpc.CodeBadRequest, "pubsub: a pattern subscription cannot recover: since is for channels")
	}
	ev, err := h.authorize(ctx, req.Channel, req.Pattern)
	if err != nil {
		return err
	}
	call := ev.Call
	conn := call.Conn()
	cs := h.connState(conn)
	s := newSubscription(h, req.Channel, req.Pattern, conn, call, cs, ev.Spec)
	k := keyID{req.Channel, req.Pattern}

	defer close(s.gone)
	cs.mu.Lock()
	old := cs.subs[k]
	cs.subs[k] = s
	cs.mu.Unlock()
	if old != nil {
		// The draft: a second subscription replaces the first. Its leave
		// and presence are undone before this one's are done.
		old.end(nil)
		select {
		case <-old.gone:
		case <-ctx.Done():
			return nil
		}
	}
	defer func() {
		cs.mu.Lock()
		if cs.subs[k] == s {
			delete(cs.subs, k)
		}
		cs.mu.Unlock()
	}()

	if err := h.add(ctx, s); err != nil {
		return err
	}
	defer h.remove(s)

	md, recovered, err := h.position(ctx, s, req)
	if err != nil {
		return err
	}
	if err := call.SendHeader(md); err != nil {
		return err
	}
	s.goLive(recovered)

	leave := h.join(ctx, s, ev)
	defer leave()

	select {
	case <-ctx.Done():
		return nil
	case <-call.Draining():
		return errDraining()
	case <-s.done:
		s.mu.Lock()
		err := s.err
		s.mu.Unlock()
		return err
	}
}

// position reads the channel's position and, for a request with Since,
// the publications to recover; it sets where s's deliveries start.
func (h *Hub) position(ctx context.Context, s *subscription, req rpc.SubscribeRequest) (rpc.Metadata, []Publication, error) {
	md := rpc.Metadata{rpc.PositionOffsetKey: uint64(0), rpc.PositionEpochKey: ""}
	size, _ := s.spec.History()
	if req.Pattern || size == 0 {
		if req.Since != nil {
			md[rpc.RecoveredKey] = false
		}
		return md, nil, nil
	}
	opts := HistoryOptions{Limit: 0, PublishOptions: s.spec.publishOptions()}
	if req.Since != nil {
		opts.Since, opts.Limit = req.Since, -1
	}
	pubs, pos, err := h.engine.History(ctx, req.Channel, opts)
	if err != nil {
		return nil, nil, rpc.Errorf(rpc.CodeUnavailable, "pubsub: reading the history of %q: %v", req.Channel, err)
	}
	md[rpc.PositionOffsetKey], md[rpc.PositionEpochKey] = pos.Offset, pos.Epoch
	start := pos
	if req.Since != nil {
		ok := recoverable(*req.Since, pos, pubs)
		md[rpc.RecoveredKey] = ok
		if ok {
			start = *req.Since
		} else {
			pubs = nil
		}
	}
	s.mu.Lock()
	s.epoch, s.last = start.Epoch, start.Offset
	s.mu.Unlock()
	return md, pubs, nil
}

// recoverable reports whether pubs, the kept publications after since,
// are all of them up to pos.
func recoverable(since, pos rpc.Position, pubs []Publication) bool {
	switch {
	case since.Offset == pos.Offset && since.Epoch == pos.Epoch:
		return true
	case since.Offset == 0 && pos.Offset == 0:
		return true // nothing was ever published: nothing was missed
	case since.Epoch != pos.Epoch || since.Offset > pos.Offset:
		return false
	}
	return len(pubs) > 0 && pubs[0].Offset == since.Offset+1 && pubs[len(pubs)-1].Offset == pos.Offset
}

// join records presence and publishes the join, and returns what undoes
// both.
func (h *Hub) join(ctx context.Context, s *subscription, ev *SubscribeEvent) func() {
	presence, joinLeave := s.spec.Presence()
	if s.pattern || !presence {
		return func() {}
	}
	info, err := codec.Marshal(rpc.ClientInfo{Client: s.conn.ID(), User: ev.User, Info: ev.Info})
	if err != nil {
		h.log.Warn("pubsub: presence info does not encode", "channel", s.key, "err", err)
		return func() {}
	}
	h.addPresence(ctx, s.key, s.conn.ID(), info)
	if joinLeave {
		if _, err := h.engine.Publish(ctx, Publication{Channel: s.key, Join: info}, PublishOptions{}); err != nil {
			h.log.Warn("pubsub: publishing a join failed", "channel", s.key, "err", err)
		}
	}
	return func() {
		bg := context.WithoutCancel(ctx)
		h.removePresence(bg, s.key, s.conn.ID())
		if joinLeave {
			if _, err := h.engine.Publish(bg, Publication{Channel: s.key, Leave: info}, PublishOptions{}); err != nil {
				h.log.Warn("pubsub: publishing a leave failed", "channel", s.key, "err", err)
			}
		}
	}
}

func (h *Hub) serveUnsubscribe(ctx context.Context, req rpc.UnsubscribeRequest) (codec.None, error) {
	conn := swill.ConnFromContext(ctx)
	h.mu.RLock()
	cs := h.conns[conn]
	h.mu.RUnlock()
	if cs == nil {
		return codec.None{}, nil
	}
	cs.mu.Lock()
	s := cs.subs[keyID{req.Channel, req.Pattern}]
	cs.mu.Unlock()
	if s != nil {
		s.end(nil)
	}
	return codec.None{}, nil
}

func (h *Hub) servePublish(ctx context.Context, req publishRequest) (rpc.Position, error) {
	spec, err := h.lookup(req.Channel)
	if err != nil {
		return rpc.Position{}, err
	}
	if h.hooks.OnPublish == nil {
		return rpc.Position{}, rpc.NewError(rpc.CodeForbidden, "pubsub: clients may not publish on this server")
	}
	data := []byte(req.Data)
	if len(data) == 0 {
		data = []byte{0xc0}
	}
	var msg any
	if spec != nil && spec.decode != nil {
		msg, err = spec.decode(data)
	} else {
		err = codec.Unmarshal(data, &msg)
	}
	if err != nil {
		return rpc.Position{}, rpc.Errorf(rpc.CodeBadRequest, "pubsub: the message does not fit channel %q: %v", req.Channel, err)
	}
	call := swill.CallFromContext(ctx)
	if err := h.hooks.OnPublish(ctx, &PublishEvent{Conn: call.Conn(), Call: call, Channel: req.Channel, Spec: spec, Data: msg}); err != nil {
		return rpc.Position{}, err
	}
	pos, err := h.publishRaw(ctx, req.Channel, spec, data)
	if err != nil {
		return rpc.Position{}, rpc.NewError(rpc.CodeUnavailable, err.Error())
	}
	return pos, nil
}

func (h *Hub) servePresence(ctx context.Context, req rpc.ChannelRequest) ([]rpc.ClientInfo, error) {
	if _, err := h.authorize(ctx, req.Channel, false); err != nil {
		return nil, err
	}
	infos, err := h.Presence(ctx, req.Channel)
	if err != nil {
		return nil, rpc.NewError(rpc.CodeUnavailable, err.Error())
	}
	return infos, nil
}

func (h *Hub) serveHistory(ctx context.Context, req rpc.HistoryRequest) (historyResult, error) {
	if _, err := h.authorize(ctx, req.Channel, false); err != nil {
		return historyResult{}, err
	}
	if req.Limit < 0 {
		return historyResult{}, rpc.NewError(rpc.CodeBadRequest, "pubsub: negative limit")
	}
	msgs, pos, err := h.history(ctx, req.Channel, req.Limit, func(b []byte) (any, error) { return codec.RawMessage(b), nil })
	if err != nil {
		return historyResult{}, rpc.NewError(rpc.CodeUnavailable, err.Error())
	}
	if msgs == nil {
		msgs = []Message{}
	}
	return historyResult{Publications: msgs, Position: pos}, nil
}

// Presence returns the subscribers of channel in every process, ordered
// by client id.
func (h *Hub) Presence(ctx context.Context, channel string) ([]rpc.ClientInfo, error) {
	m, err := h.engine.Presence(ctx, channel)
	if err != nil {
		return nil, fmt.Errorf("pubsub: presence of %q: %w", channel, err)
	}
	out := make([]rpc.ClientInfo, 0, len(m))
	for _, b := range m {
		var ci rpc.ClientInfo
		if err := codec.Unmarshal(b, &ci); err == nil {
			out = append(out, ci)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Client < out[j].Client })
	return out, nil
}

// History returns the latest publications of channel, at most limit,
// oldest first, with the channel's position. Each Message's Data is
// decoded as the channel's type (or as codec.Unmarshal decodes into an
// interface, for an untyped channel).
func (h *Hub) History(ctx context.Context, channel string, limit int) ([]Message, rpc.Position, error) {
	spec := h.spec(channel)
	decode := func(b []byte) (any, error) {
		var v any
		err := codec.Unmarshal(b, &v)
		return v, err
	}
	if spec != nil && spec.decode != nil {
		decode = spec.decode
	}
	return h.history(ctx, channel, limit, decode)
}

func (h *Hub) history(ctx context.Context, channel string, limit int, decode func([]byte) (any, error)) ([]Message, rpc.Position, error) {
	pubs, pos, err := h.engine.History(ctx, channel, HistoryOptions{Limit: limit, PublishOptions: h.spec(channel).publishOptions()})
	if err != nil {
		return nil, rpc.Position{}, fmt.Errorf("pubsub: history of %q: %w", channel, err)
	}
	var out []Message
	for _, p := range pubs {
		d, err := decode(p.Data)
		if err != nil {
			return nil, rpc.Position{}, fmt.Errorf("pubsub: history of %q at offset %d: %w", channel, p.Offset, err)
		}
		out = append(out, Message{Channel: p.Channel, Data: d, Offset: p.Offset})
	}
	return out, pos, nil
}

func (h *Hub) serveInbox(ctx context.Context, _ codec.None) error {
	call := swill.CallFromContext(ctx)
	cs := h.connState(call.Conn())
	// A second inbox takes over; the first stays open, empty, until
	// cancelled. The leading metadata tells the client it is live.
	cs.inbox.Store(call)
	if err := call.SendHeader(nil); err != nil {
		cs.inbox.CompareAndSwap(call, nil)
		return err
	}
	defer cs.inbox.CompareAndSwap(call, nil)
	select {
	case <-ctx.Done():
		return nil
	case <-call.Draining():
		return errDraining()
	}
}

// Subscribe subscribes conn to channel (or, with pattern, to every
// channel matching it) on the server's initiative, without a client's
// request and without the subscribe hook: a hook or handler can subscribe
// a connection to its user's channel, for one. The publications reach the
// client through its swill.inbox stream (clientgo and clientts open it
// for their inbox); those arriving before it is open are dropped and
// counted (Stats.Undelivered). The subscription ends when the connection
// closes or with [Hub.Unsubscribe]. Subscribing twice to one key
// replaces the first.
func (h *Hub) Subscribe(ctx context.Context, conn *swill.Conn, channel string, pattern bool) error {
	spec, err := h.lookup(channel)
	if err != nil {
		return err
	}
	cs := h.connState(conn)
	s := newSubscription(h, channel, pattern, conn, nil, cs, spec)
	k := keyID{channel, pattern}
	if err := h.add(ctx, s); err != nil {
		return err
	}
	s.goLive(nil)
	cs.mu.Lock()
	old := cs.server[k]
	cs.server[k] = s
	cs.mu.Unlock()
	if old != nil {
		h.endServer(old)
	}
	if conn.Context().Err() != nil { // closed meanwhile: dropConn may have run
		h.Unsubscribe(conn, channel, pattern)
	}
	return nil
}

// Unsubscribe ends the subscription the server made for conn with
// [Hub.Subscribe].
func (h *Hub) Unsubscribe(conn *swill.Conn, channel string, pattern bool) {
	h.mu.RLock()
	cs := h.conns[conn]
	h.mu.RUnlock()
	if cs == nil {
		return
	}
	k := keyID{channel, pattern}
	cs.mu.Lock()
	s := cs.server[k]
	delete(cs.server, k)
	cs.mu.Unlock()
	if s != nil {
		h.endServer(s)
	}
}

func (h *Hub) endServer(s *subscription) {
	s.end(nil)
	h.remove(s)
}
