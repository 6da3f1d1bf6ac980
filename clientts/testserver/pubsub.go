package main

import (
	"context"
	"sync"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// The pub/sub side of the test server: a hub with channels of each kind,
// and pstest.* calls with which a test steers it from a second client:
// drop the connections subscribed to a channel, hold subscriptions back
// while it publishes, refuse the next ones with a code, or subscribe the
// caller's connection from the server.
//
//	feed.*  history of 5
//	room.*  presence, joins and leaves
//	other   no history; clients may publish anywhere but "readonly"
type psControl struct {
	hub *pubsub.Hub

	mu     sync.Mutex
	conns  map[string]map[*swill.Conn]bool // subscribers by channel
	gates  map[string]chan struct{}        // held channels
	held   map[string]chan struct{}        // a subscription waits at the gate
	refuse map[string]*refusal
}

type refusal struct {
	code         rpc.Code
	count        int
	retryAfterMS int
}

// channelArg is the request of most pstest calls.
type channelArg struct {
	Channel string `msgpack:"channel"`
}

type failArg struct {
	Channel      string `msgpack:"channel"`
	Code         int    `msgpack:"code"`
	Count        int    `msgpack:"count"`
	RetryAfterMS int    `msgpack:"retry_after_ms"`
}

func newPubSub() (*psControl, error) {
	p := &psControl{
		conns:  map[string]map[*swill.Conn]bool{},
		gates:  map[string]chan struct{}{},
		held:   map[string]chan struct{}{},
		refuse: map[string]*refusal{},
	}
	hub, err := pubsub.New(
		pubsub.WithChannels(
			pubsub.Untyped("feed.*", pubsub.WithHistory(5, 0)),
			pubsub.Untyped("room.*", pubsub.WithJoinLeave()),
		),
		pubsub.WithHooks(pubsub.Hooks{OnSubscribe: p.onSubscribe, OnPublish: p.onPublish}),
	)
	if err != nil {
		return nil, err
	}
	p.hub = hub
	return p, nil
}

func (p *psControl) onSubscribe(ctx context.Context, ev *pubsub.SubscribeEvent) error {
	ev.User = ev.Call.Metadata().String("user")
	if ev.Call.Name() != rpc.SubscribeRPC {
		return nil
	}
	p.mu.Lock()
	if p.conns[ev.Channel] == nil {
		p.conns[ev.Channel] = map[*swill.Conn]bool{}
	}
	p.conns[ev.Channel][ev.Conn] = true
	var refused *rpc.Error
	if r := p.refuse[ev.Channel]; r != nil && r.count > 0 {
		r.count--
		refused = rpc.NewError(r.code, "refused by the test")
		if r.retryAfterMS > 0 {
			refused = refused.WithMetadata(rpc.Metadata{rpc.RetryAfterKey: r.retryAfterMS})
		}
	}
	gate := p.gates[ev.Channel]
	var held chan struct{}
	if gate != nil {
		held = p.heldLocked(ev.Channel)
	}
	p.mu.Unlock()
	if refused != nil {
		return refused
	}
	if gate != nil {
		select {
		case <-held:
		default:
			close(held)
		}
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (p *psControl) onPublish(ctx context.Context, ev *pubsub.PublishEvent) error {
	if ev.Channel == "readonly" {
		return rpc.NewError(rpc.CodeForbidden, "read only")
	}
	return nil
}

func (p *psControl) heldLocked(channel string) chan struct{} {
	if p.held[channel] == nil {
		p.held[channel] = make(chan struct{})
	}
	return p.held[channel]
}

func (p *psControl) handlers() []*swill.Handler {
	return []*swill.Handler{
		swill.Unary("pstest.drop", func(ctx context.Context, a channelArg) (int, error) {
			p.mu.Lock()
			conns := p.conns[a.Channel]
			delete(p.conns, a.Channel)
			p.mu.Unlock()
			for c := range conns {
				c.Close("dropped by the test")
			}
			return len(conns), nil
		}),
		swill.Unary("pstest.hold", func(ctx context.Context, a channelArg) (codec.None, error) {
			p.mu.Lock()
			p.gates[a.Channel] = make(chan struct{})
			p.held[a.Channel] = make(chan struct{})
			p.mu.Unlock()
			return codec.None{}, nil
		}),
		swill.Unary("pstest.held", func(ctx context.Context, a channelArg) (codec.None, error) {
			p.mu.Lock()
			held := p.heldLocked(a.Channel)
			p.mu.Unlock()
			select {
			case <-held:
				return codec.None{}, nil
			case <-ctx.Done():
				return codec.None{}, ctx.Err()
			}
		}),
		swill.Unary("pstest.release", func(ctx context.Context, a channelArg) (codec.None, error) {
			p.mu.Lock()
			if g := p.gates[a.Channel]; g != nil {
				close(g)
			}
			delete(p.gates, a.Channel)
			delete(p.held, a.Channel)
			p.mu.Unlock()
			return codec.None{}, nil
		}),
		swill.Unary("pstest.fail", func(ctx context.Context, a failArg) (codec.None, error) {
			p.mu.Lock()
			p.refuse[a.Channel] = &refusal{code: rpc.Code(a.Code), count: a.Count, retryAfterMS: a.RetryAfterMS}
			p.mu.Unlock()
			return codec.None{}, nil
		}),
		swill.Unary("pstest.subscribe_me", func(ctx context.Context, a channelArg) (codec.None, error) {
			return codec.None{}, p.hub.Subscribe(ctx, swill.ConnFromContext(ctx), a.Channel, false)
		}),
	}
}
