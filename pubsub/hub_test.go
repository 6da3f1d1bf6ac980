package pubsub_test

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/swillorg/swill-go/codec"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

type chatMessage struct {
	User string `msgpack:"user"`
	Text string `msgpack:"text"`
}

// item is one subscription item as a client decodes it.
type item[T any] struct {
	Channel string          `msgpack:"channel"`
	Data    T               `msgpack:"data"`
	Offset  uint64          `msgpack:"offset"`
	Join    *rpc.ClientInfo `msgpack:"join"`
	Leave   *rpc.ClientInfo `msgpack:"leave"`
}

type fixture struct {
	hub *pubsub.Hub
	url string
}

func start(t *testing.T, opts ...pubsub.Option) *fixture {
	t.Helper()
	hub, err := pubsub.New(opts...)
	require.NoError(t, err)
	srv := swilltest.NewServer()
	require.NoError(t, srv.Mount(hub))
	s := swilltest.Start(t, srv)
	t.Cleanup(func() { hub.Close() })
	return &fixture{hub: hub, url: s.URL}
}

func dial(t *testing.T, url string) *clientgo.Client {
	t.Helper()
	c, err := clientgo.Dial(context.Background(), url, clientgo.WithoutReconnect())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func subscribe[T any](t *testing.T, ctx context.Context, c *clientgo.Client, req rpc.SubscribeRequest) *clientgo.ServerStream[item[T]] {
	t.Helper()
	st, err := clientgo.CallServerStream[rpc.SubscribeRequest, item[T]](ctx, c, rpc.SubscribeRPC, req)
	require.NoError(t, err)
	_, err = st.WaitHeader(ctx) // the position comes first: the subscription is live
	require.NoError(t, err)
	return st
}

func recv[T any](t *testing.T, st *clientgo.ServerStream[item[T]]) item[T] {
	t.Helper()
	it, err := st.Recv()
	require.NoError(t, err)
	return it
}

func TestPublishReachesSubscribers(t *testing.T) {
	f := start(t, pubsub.WithChannels(pubsub.Channel[chatMessage]("chat.*")))
	ctx := context.Background()
	a := subscribe[chatMessage](t, ctx, dial(t, f.url), rpc.SubscribeRequest{Channel: "chat.lobby"})
	b := subscribe[chatMessage](t, ctx, dial(t, f.url), rpc.SubscribeRequest{Channel: "chat.lobby"})
	other := subscribe[chatMessage](t, ctx, dial(t, f.url), rpc.SubscribeRequest{Channel: "chat.other"})

	_, err := f.hub.Publish(ctx, "chat.lobby", chatMessage{User: "ann", Text: "hi"})
	require.NoError(t, err)
	_, err = f.hub.Publish(ctx, "chat.other", chatMessage{User: "bob", Text: "yo"})
	require.NoError(t, err)

	for _, st := range []*clientgo.ServerStream[item[chatMessage]]{a, b} {
		it := recv(t, st)
		assert.Equal(t, "chat.lobby", it.Channel)
		assert.Equal(t, chatMessage{User: "ann", Text: "hi"}, it.Data)
	}
	assert.Equal(t, "yo", recv(t, other).Data.Text)

	_, err = f.hub.Publish(ctx, "chat.lobby", "not a chat message")
	assert.ErrorContains(t, err, "carries")
}

func TestPatternSubscription(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	st := subscribe[string](t, ctx, dial(t, f.url), rpc.SubscribeRequest{Channel: "news.[ab]*", Pattern: true})
	for _, ch := range []string{"news.alpha", "news.cat", "news.beta"} {
		_, err := f.hub.Publish(ctx, ch, ch)
		require.NoError(t, err)
	}
	require.NoError(t, f.hub.PublishLocal(ctx, "news.apple", "local"))
	assert.Equal(t, "news.alpha", recv(t, st).Channel)
	assert.Equal(t, "news.beta", recv(t, st).Channel)
	it := recv(t, st)
	assert.Equal(t, "news.apple", it.Channel)
	assert.Equal(t, "local", it.Data)
}

func TestResubscribeReplaces(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	c := dial(t, f.url)
	first := subscribe[int](t, ctx, c, rpc.SubscribeRequest{Channel: "n"})
	second := subscribe[int](t, ctx, c, rpc.SubscribeRequest{Channel: "n"})
	_, err := first.Recv()
	assert.ErrorIs(t, err, errEOF, "the first subscription ends cleanly")
	_, err = f.hub.Publish(ctx, "n", 7)
	require.NoError(t, err)
	assert.Equal(t, 7, recv(t, second).Data)
}

func TestUnsubscribe(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	c := dial(t, f.url)
	st := subscribe[int](t, ctx, c, rpc.SubscribeRequest{Channel: "n"})
	_, err := clientgo.Call[rpc.UnsubscribeRequest, any](ctx, c, rpc.UnsubscribeRPC, rpc.UnsubscribeRequest{Channel: "n"})
	require.NoError(t, err)
	_, err = st.Recv()
	assert.ErrorIs(t, err, errEOF)
}

func TestAuthorization(t *testing.T) {
	f := start(t, pubsub.WithHooks(pubsub.Hooks{
		OnSubscribe: func(ctx context.Context, ev *pubsub.SubscribeEvent) error {
			switch ev.Channel {
			case "secret":
				return rpc.NewError(rpc.CodeForbidden, "not yours")
			case "private":
				if ev.Call.Metadata().String("token") == "" {
					return rpc.NewError(rpc.CodeUnauthorized, "log in first")
				}
			}
			return nil
		},
	}))
	ctx := context.Background()
	c := dial(t, f.url)
	for ch, code := range map[string]rpc.Code{"secret": rpc.CodeForbidden, "private": rpc.CodeUnauthorized} {
		st, err := clientgo.CallServerStream[rpc.SubscribeRequest, any](ctx, c, rpc.SubscribeRPC, rpc.SubscribeRequest{Channel: ch})
		if err == nil {
			_, err = st.Recv()
		}
		assert.Equal(t, code, rpc.CodeOf(err), ch)
	}
	// Without an OnPublish hook, clients may not publish.
	_, err := clientgo.Call[rpc.PublishRequest, rpc.Position](ctx, c, rpc.PublishRPC, rpc.PublishRequest{Channel: "x", Data: 1})
	assert.Equal(t, rpc.CodeForbidden, rpc.CodeOf(err))
	// The connection is fine after the refusals.
	subscribe[int](t, ctx, c, rpc.SubscribeRequest{Channel: "open"})
}

func TestClientPublish(t *testing.T) {
	f := start(t,
		pubsub.WithChannels(pubsub.Channel[chatMessage]("chat.*", pubsub.WithHistory(10, 0))),
		pubsub.WithHooks(pubsub.Hooks{OnPublish: func(ctx context.Context, ev *pubsub.PublishEvent) error {
			if ev.Data.(chatMessage).User == "mallory" {
				return rpc.NewError(rpc.CodeForbidden, "banned")
			}
			return nil
		}}))
	ctx := context.Background()
	c := dial(t, f.url)
	st := subscribe[chatMessage](t, ctx, c, rpc.SubscribeRequest{Channel: "chat.x"})
	pos, err := clientgo.Call[rpc.PublishRequest, rpc.Position](ctx, c, rpc.PublishRPC,
		rpc.PublishRequest{Channel: "chat.x", Data: chatMessage{User: "ann", Text: "hello"}})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), pos.Offset)
	it := recv(t, st)
	assert.Equal(t, "hello", it.Data.Text)
	assert.Equal(t, uint64(1), it.Offset)

	_, err = clientgo.Call[rpc.PublishRequest, rpc.Position](ctx, c, rpc.PublishRPC,
		rpc.PublishRequest{Channel: "chat.x", Data: chatMessage{User: "mallory"}})
	assert.Equal(t, rpc.CodeForbidden, rpc.CodeOf(err))
	_, err = clientgo.Call[rpc.PublishRequest, rpc.Position](ctx, c, rpc.PublishRPC,
		rpc.PublishRequest{Channel: "chat.x", Data: []int{1, 2}})
	assert.Equal(t, rpc.CodeBadRequest, rpc.CodeOf(err))
}

func TestFanOut(t *testing.T) {
	f := start(t)
	ctx := context.Background()
	const n = 1000
	subs := make([]*clientgo.ServerStream[item[int]], n)
	for i := range subs {
		subs[i] = subscribe[int](t, ctx, dial(t, f.url), rpc.SubscribeRequest{Channel: "all"})
	}
	for i := 0; i < 3; i++ {
		_, err := f.hub.Publish(ctx, "all", i)
		require.NoError(t, err)
	}
	for _, st := range subs {
		for i := 0; i < 3; i++ {
			require.Equal(t, i, recv(t, st).Data)
		}
	}
	assert.Equal(t, uint64(3*n), f.hub.Stats().Delivered)
}

func TestRecovery(t *testing.T) {
	f := start(t, pubsub.WithChannels(pubsub.Untyped("feed", pubsub.WithHistory(5, 0))))
	ctx := context.Background()
	c := dial(t, f.url)
	sctx, cancel := context.WithCancel(ctx)
	st := subscribe[int](t, sctx, c, rpc.SubscribeRequest{Channel: "feed"})
	_, err := f.hub.Publish(ctx, "feed", 1)
	require.NoError(t, err)
	it := recv(t, st)
	hd := st.Header()
	require.NoError(t, err)
	last := rpc.Position{Offset: it.Offset, Epoch: hd.String(rpc.PositionEpochKey)}
	cancel()

	// Three publications while away: recovered exactly, in order.
	for i := 2; i <= 4; i++ {
		_, err := f.hub.Publish(ctx, "feed", i)
		require.NoError(t, err)
	}
	epoch := last.Epoch
	st = subscribe[int](t, ctx, c, rpc.SubscribeRequest{Channel: "feed", Since: &last})
	hd = st.Header()
	assert.Equal(t, true, hd[rpc.RecoveredKey])
	for i := 2; i <= 4; i++ {
		it := recv(t, st)
		assert.Equal(t, i, it.Data)
		assert.Equal(t, uint64(i), it.Offset)
	}
	_, err = f.hub.Publish(ctx, "feed", 5)
	require.NoError(t, err)
	assert.Equal(t, 5, recv(t, st).Data, "live after recovery, no duplicate")

	// A gap larger than the history cannot be recovered.
	for i := 6; i <= 20; i++ {
		_, err := f.hub.Publish(ctx, "feed", i)
		require.NoError(t, err)
	}
	old := rpc.Position{Offset: 5, Epoch: epoch}
	c2 := dial(t, f.url)
	st2 := subscribe[int](t, ctx, c2, rpc.SubscribeRequest{Channel: "feed", Since: &old})
	hd = st2.Header()
	assert.Equal(t, false, hd[rpc.RecoveredKey])
	_, err = f.hub.Publish(ctx, "feed", 21)
	require.NoError(t, err)
	assert.Equal(t, 21, recv(t, st2).Data, "no stale history after a failed recovery")

	// Another epoch cannot be recovered either.
	st3 := subscribe[int](t, ctx, c2, rpc.SubscribeRequest{Channel: "feed", Since: &rpc.Position{Offset: 20, Epoch: "other"}})
	hd = st3.Header()
	assert.Equal(t, false, hd[rpc.RecoveredKey])
}

func TestPresenceAndJoinLeave(t *testing.T) {
	f := start(t,
		pubsub.WithChannels(pubsub.Untyped("room", pubsub.WithJoinLeave())),
		pubsub.WithHooks(pubsub.Hooks{OnSubscribe: func(ctx context.Context, ev *pubsub.SubscribeEvent) error {
			ev.User = ev.Call.Metadata().String("user")
			return nil
		}}))
	ctx := context.Background()
	watcher := subscribe[any](t, ctx, dial(t, f.url), rpc.SubscribeRequest{Channel: "room"})
	j := recv(t, watcher) // its own join
	require.NotNil(t, j.Join)

	c := dial(t, f.url)
	sctx, cancel := context.WithCancel(ctx)
	st, err := clientgo.CallServerStream[rpc.SubscribeRequest, item[any]](sctx, c, rpc.SubscribeRPC,
		rpc.SubscribeRequest{Channel: "room"}, clientgo.WithMetadata(rpc.Metadata{"user": "ann"}))
	require.NoError(t, err)
	_, err = st.WaitHeader(ctx)
	require.NoError(t, err)
	j = recv(t, watcher)
	require.NotNil(t, j.Join)
	assert.Equal(t, "ann", j.Join.User)

	infos, err := clientgo.Call[rpc.ChannelRequest, []rpc.ClientInfo](ctx, c, rpc.PresenceRPC, rpc.ChannelRequest{Channel: "room"})
	require.NoError(t, err)
	require.Len(t, infos, 2)
	cancel()
	l := recv(t, watcher)
	require.NotNil(t, l.Leave)
	assert.Equal(t, "ann", l.Leave.User)
	infos, err = f.hub.Presence(ctx, "room")
	require.NoError(t, err)
	assert.Len(t, infos, 1)
}

func TestServerSideSubscription(t *testing.T) {
	hub, err := pubsub.New()
	require.NoError(t, err)
	defer hub.Close()
	subscribed := make(chan struct{}, 1)
	srv := swilltest.NewServer(swill.WithHooks(swill.Hooks{
		AfterAccept: func(ctx context.Context, conn *swill.Conn) error {
			err := hub.Subscribe(ctx, conn, "user.42", false)
			subscribed <- struct{}{}
			return err
		},
	}))
	require.NoError(t, srv.Mount(hub))
	s := swilltest.Start(t, srv)
	ctx := context.Background()
	c := dial(t, s.URL)
	inbox, err := clientgo.CallServerStream[any, item[string]](ctx, c, rpc.InboxRPC, nil)
	require.NoError(t, err)
	_, err = inbox.WaitHeader(ctx)
	require.NoError(t, err)
	<-subscribed
	_, err = hub.Publish(ctx, "user.42", "for you")
	require.NoError(t, err)
	it := recv(t, inbox)
	assert.Equal(t, "user.42", it.Channel)
	assert.Equal(t, "for you", it.Data)
}

func TestSlowSubscriberIsCutOffAlone(t *testing.T) {
	hub, err := pubsub.New()
	require.NoError(t, err)
	defer hub.Close()
	srv := swilltest.NewServer(swill.WithLimits(swill.Limits{MaxQueueBytes: 64 << 10}))
	require.NoError(t, srv.Mount(hub))
	s := swilltest.Start(t, srv)
	ctx := context.Background()

	// A raw client that subscribes and never reads again.
	raw, _, err := websocket.Dial(ctx, s.URL, &websocket.DialOptions{Subprotocols: []string{rpc.Subprotocol}})
	require.NoError(t, err)
	defer raw.CloseNow()
	frame, err := codec.Marshal([]any{1, map[string]any{"channel": "firehose"}, rpc.SubscribeRPC})
	require.NoError(t, err)
	require.NoError(t, raw.Write(ctx, websocket.MessageBinary, frame))
	_, _, err = raw.Read(ctx) // the METADATA frame: subscribed; then it never reads again
	require.NoError(t, err)

	fast := subscribe[[]byte](t, ctx, dial(t, s.URL), rpc.SubscribeRequest{Channel: "firehose"})
	payload := make([]byte, 4<<10)
	// The fast subscriber takes each publication before the next one: 8 MB
	// in all, far past the stalled one's queue bound and socket buffers.
	for i := 0; i < 2000; i++ {
		_, err := hub.Publish(ctx, "firehose", payload)
		require.NoError(t, err, "a stalled subscriber never fails or blocks the publisher")
		it, err := fast.Recv()
		require.NoError(t, err, "item %d", i)
		require.Len(t, it.Data, len(payload))
	}
	assert.Equal(t, uint64(1), hub.Stats().SlowSubscribers)
	// When the stalled client reads at last, its subscription ended with
	// a coded error after the items that fitted.
	for {
		_, b, err := raw.Read(ctx)
		require.NoError(t, err)
		var f []any
		require.NoError(t, codec.Unmarshal(b, &f))
		if len(f) > 2 && f[2] == int8(3) {
			assert.EqualValues(t, 429, f[1].(map[string]any)["code"])
			break
		}
	}
}

var errEOF = io.EOF

// TestEpochChangeEndsSubscription checks that a live subscriber whose
// channel's history was lost (the channel has a new epoch: here its
// history expired) is told so: its subscription ends with 503, and
// subscribing again from its last position says it cannot recover.
func TestEpochChangeEndsSubscription(t *testing.T) {
	var elapsed atomic.Int64 // on the engine's clock
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	engine := pubsub.NewMemoryEngineWithClock(func() time.Time { return base.Add(time.Duration(elapsed.Load())) })
	const ttl = time.Minute
	f := start(t, pubsub.WithEngine(engine), pubsub.WithChannels(pubsub.Untyped("feed", pubsub.WithHistory(5, ttl))))
	ctx := context.Background()
	c := dial(t, f.url)
	st := subscribe[int](t, ctx, c, rpc.SubscribeRequest{Channel: "feed"})
	_, err := f.hub.Publish(ctx, "feed", 1)
	require.NoError(t, err)
	last := rpc.Position{Offset: recv(t, st).Offset, Epoch: st.Header().String(rpc.PositionEpochKey)}

	elapsed.Add(int64(2 * ttl)) // quiet for longer than the history's TTL
	_, err = f.hub.Publish(ctx, "feed", 2)
	require.NoError(t, err)
	_, err = st.Recv()
	assert.Equal(t, rpc.CodeUnavailable, rpc.CodeOf(err), "%v", err)
	assert.Equal(t, uint64(1), f.hub.Stats().Interrupted)

	st = subscribe[int](t, ctx, c, rpc.SubscribeRequest{Channel: "feed", Since: &last})
	assert.Equal(t, false, st.Header()[rpc.RecoveredKey])
}

// A connection that subscribes twice to a channel with presence stays
// in its presence once: the first subscription's leave comes before the
// second's join.
func TestResubscribeKeepsPresence(t *testing.T) {
	f := start(t, pubsub.WithChannels(pubsub.Untyped("room", pubsub.WithPresence())))
	ctx := context.Background()
	c := dial(t, f.url)
	for range 5 {
		subscribe[any](t, ctx, c, rpc.SubscribeRequest{Channel: "room"})
	}
	infos, err := clientgo.Call[rpc.ChannelRequest, []rpc.ClientInfo](ctx, c, rpc.PresenceRPC, rpc.ChannelRequest{Channel: "room"})
	require.NoError(t, err)
	assert.Len(t, infos, 1)
}

// Shutdown ends subscriptions at once, with 503 and a retry hint, rather
// than holding on to its deadline: their clients move to another server.
func TestShutdownEndsSubscriptions(t *testing.T) {
	hub, err := pubsub.New()
	require.NoError(t, err)
	defer hub.Close()
	srv := swilltest.NewServer()
	require.NoError(t, srv.Mount(hub))
	s := swilltest.Start(t, srv)
	ctx := context.Background()
	st := subscribe[int](t, ctx, dial(t, s.URL), rpc.SubscribeRequest{Channel: "n"})

	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, srv.Shutdown(sctx), "Shutdown returned before its deadline")
	_, err = st.Recv()
	assert.Equal(t, rpc.CodeUnavailable, rpc.CodeOf(err))
	d, ok := rpc.RetryAfter(err)
	assert.True(t, ok)
	assert.Positive(t, d)
}
