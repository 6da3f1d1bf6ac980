package redisengine_test

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/redistest"
	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/pubsub/redisengine"
	"github.com/swillorg/swill-go/rpc"
)

// These tests run two nodes, each a pubsub.Hub on its own swill server
// with its own Redis client, sharing one real Redis, with clients over
// loopback WebSockets.

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

type node struct {
	hub    *pubsub.Hub
	engine *redisengine.Engine
	url    string
}

// channels are the nodes' declarations.
func channels() pubsub.Option {
	return pubsub.WithChannels(
		pubsub.Channel[chatMessage]("chat.*", pubsub.WithHistory(50, 0)),
		pubsub.Channel[int]("feed", pubsub.WithHistory(100, 0)),
		pubsub.Channel[int]("news"),
		pubsub.Untyped("room.*", pubsub.WithJoinLeave()),
	)
}

// startNode starts a node on the Redis at redisURL.
func startNode(t *testing.T, redisURL, prefix string, opts ...pubsub.Option) *node {
	t.Helper()
	e := redisengine.New(newClient(t, redisURL), redisengine.WithPrefix(prefix),
		redisengine.WithBackoff(20*time.Millisecond, 200*time.Millisecond))
	hub, err := pubsub.New(append([]pubsub.Option{pubsub.WithEngine(e), channels(),
		pubsub.WithHooks(pubsub.Hooks{
			OnSubscribe: func(ctx context.Context, ev *pubsub.SubscribeEvent) error {
				ev.User = ev.Call.Metadata().String("user")
				return nil
			},
			OnPublish: func(context.Context, *pubsub.PublishEvent) error { return nil },
		})}, opts...)...)
	require.NoError(t, err)
	srv := swilltest.NewServer()
	require.NoError(t, srv.Mount(hub))
	s := swilltest.Start(t, srv)
	t.Cleanup(func() { hub.Close() }) // after the server's shutdown
	return &node{hub: hub, engine: e, url: s.URL}
}

func dial(t *testing.T, url string) *clientgo.Client {
	t.Helper()
	c, err := clientgo.Dial(context.Background(), url, clientgo.WithoutReconnect())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// subscribe subscribes over c and waits for the leading metadata; the
// stream ends when t does, or after a minute.
func subscribe[T any](t *testing.T, c *clientgo.Client, req rpc.SubscribeRequest, opts ...clientgo.CallOption) *clientgo.ServerStream[item[T]] {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	st, err := clientgo.CallServerStream[rpc.SubscribeRequest, item[T]](ctx, c, rpc.SubscribeRPC, req, opts...)
	require.NoError(t, err)
	_, err = st.WaitHeader(ctx)
	require.NoError(t, err)
	return st
}

func recv[T any](t *testing.T, st *clientgo.ServerStream[item[T]]) item[T] {
	t.Helper()
	it, err := st.Recv()
	require.NoError(t, err)
	return it
}

func TestNodesShareChannelsAndPatterns(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	a, b := startNode(t, url, prefix), startNode(t, url, prefix)
	ctx := context.Background()

	onA := []*clientgo.ServerStream[item[chatMessage]]{
		subscribe[chatMessage](t, dial(t, a.url), rpc.SubscribeRequest{Channel: "chat.lobby"}),
		subscribe[chatMessage](t, dial(t, a.url), rpc.SubscribeRequest{Channel: "chat.lobby"}),
		subscribe[chatMessage](t, dial(t, a.url), rpc.SubscribeRequest{Channel: "chat.lobby"}),
	}
	onB := subscribe[chatMessage](t, dial(t, b.url), rpc.SubscribeRequest{Channel: "chat.lobby"})
	pattern := subscribe[chatMessage](t, dial(t, a.url), rpc.SubscribeRequest{Channel: "chat.*", Pattern: true})

	// One Redis subscription per channel per node, however many clients.
	rdb := newClient(t, url)
	n, err := rdb.PubSubNumSub(ctx, prefix+"chat.lobby").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n[prefix+"chat.lobby"], "one SUBSCRIBE per node")

	for i, text := range []string{"hello", "from", "b"} {
		pos, err := b.hub.Publish(ctx, "chat.lobby", chatMessage{User: "bob", Text: text})
		require.NoError(t, err)
		assert.Equal(t, uint64(i+1), pos.Offset)
	}
	_, err = a.hub.Publish(ctx, "chat.other", chatMessage{User: "ann", Text: "elsewhere"})
	require.NoError(t, err)
	for _, st := range append(onA, onB) {
		for i, text := range []string{"hello", "from", "b"} {
			it := recv(t, st)
			assert.Equal(t, text, it.Data.Text)
			assert.Equal(t, uint64(i+1), it.Offset, "in order")
		}
	}
	for _, want := range []string{"chat.lobby", "chat.lobby", "chat.lobby", "chat.other"} {
		assert.Equal(t, want, recv(t, pattern).Channel)
	}

	// A client's publication on B reaches A, through swill.publish.
	c := dial(t, b.url)
	pos, err := clientgo.Call[rpc.PublishRequest, rpc.Position](ctx, c, rpc.PublishRPC,
		rpc.PublishRequest{Channel: "chat.lobby", Data: chatMessage{User: "cy", Text: "client"}})
	require.NoError(t, err)
	assert.Equal(t, uint64(4), pos.Offset)
	assert.Equal(t, "client", recv(t, onA[0]).Data.Text)
}

func TestClientMovesNodesAndRecovers(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	a, b := startNode(t, url, prefix), startNode(t, url, prefix)
	ctx := context.Background()

	ca := dial(t, a.url)
	st := subscribe[int](t, ca, rpc.SubscribeRequest{Channel: "feed"})
	_, err := a.hub.Publish(ctx, "feed", 1)
	require.NoError(t, err)
	it := recv(t, st)
	last := rpc.Position{Offset: it.Offset, Epoch: st.Header().String(rpc.PositionEpochKey)}
	require.NotEmpty(t, last.Epoch)
	ca.Close() // node A is gone for this client

	for i := 2; i <= 4; i++ {
		_, err := a.hub.Publish(ctx, "feed", i)
		require.NoError(t, err)
	}
	st = subscribe[int](t, dial(t, b.url), rpc.SubscribeRequest{Channel: "feed", Since: &last})
	assert.Equal(t, true, st.Header()[rpc.RecoveredKey], "recovered on the other node")
	assert.Equal(t, last.Epoch, st.Header().String(rpc.PositionEpochKey))
	for i := 2; i <= 4; i++ {
		it := recv(t, st)
		assert.Equal(t, i, it.Data)
		assert.Equal(t, uint64(i), it.Offset)
	}
	_, err = a.hub.Publish(ctx, "feed", 5)
	require.NoError(t, err)
	assert.Equal(t, 5, recv(t, st).Data, "live after recovery, without a duplicate")

	// History as a client reads it, from either node.
	res, err := clientgo.Call[rpc.HistoryRequest, struct {
		Publications []item[int]  `msgpack:"publications"`
		Position     rpc.Position `msgpack:"position"`
	}](ctx, dial(t, b.url), rpc.HistoryRPC, rpc.HistoryRequest{Channel: "feed", Limit: 2})
	require.NoError(t, err)
	require.Len(t, res.Publications, 2)
	assert.Equal(t, 4, res.Publications[0].Data)
	assert.Equal(t, rpc.Position{Offset: 5, Epoch: last.Epoch}, res.Position)
}

func TestPresenceAcrossNodes(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	proxy := startProxy(t, url)
	const presenceTTL = 3 * time.Second
	ttl := pubsub.WithPresenceTTL(presenceTTL)
	a, b := startNode(t, proxy.url, prefix, ttl), startNode(t, url, prefix, ttl)
	ctx := context.Background()
	rdb := newClient(t, url)

	watcher := subscribe[any](t, dial(t, b.url), rpc.SubscribeRequest{Channel: "room.1"},
		clientgo.WithMetadata(rpc.Metadata{"user": "bea"}))
	require.NotNil(t, recv(t, watcher).Join, "its own join")
	subscribe[any](t, dial(t, a.url), rpc.SubscribeRequest{Channel: "room.1"},
		clientgo.WithMetadata(rpc.Metadata{"user": "ann"}))
	j := recv(t, watcher)
	require.NotNil(t, j.Join, "a join from the other node")
	assert.Equal(t, "ann", j.Join.User)

	users := func(n *node) []string {
		infos, err := n.hub.Presence(ctx, "room.1")
		require.NoError(t, err)
		var out []string
		for _, ci := range infos {
			out = append(out, ci.User)
		}
		return out
	}
	assert.ElementsMatch(t, []string{"ann", "bea"}, users(a))
	assert.ElementsMatch(t, []string{"ann", "bea"}, users(b))
	added, err := rdb.Time(ctx).Result() // both entries were added before
	require.NoError(t, err)

	// Past their TTL the hubs keep their entries alive: they stay all
	// along, until Redis's clock has passed the expiry the entries were
	// added with. Real time: Redis's clock measures the TTL.
	for {
		require.ElementsMatch(t, []string{"ann", "bea"}, users(b))
		now, err := rdb.Time(ctx).Result()
		require.NoError(t, err)
		if now.Sub(added) > presenceTTL+time.Millisecond {
			break
		}
		time.Sleep(100 * time.Millisecond) // real time: the poll's interval on Redis's clock
	}

	// Node A loses Redis as if it had crashed: it can neither refresh
	// nor remove ann's entry, which expires.
	proxy.cut()
	eventually(t, "ann's entry expired", func() bool {
		u := users(b)
		return len(u) == 1 && u[0] == "bea"
	})
}

func TestRedisRestartedMidStream(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix(t)
	a, b := startNode(t, srv.URL(), prefix), startNode(t, srv.URL(), prefix)
	ctx := context.Background()

	ca := dial(t, a.url)
	feed := subscribe[int](t, ca, rpc.SubscribeRequest{Channel: "feed"})
	news := subscribe[int](t, ca, rpc.SubscribeRequest{Channel: "news"})
	_, err := b.hub.Publish(ctx, "feed", 1)
	require.NoError(t, err)
	it := recv(t, feed)
	last := rpc.Position{Offset: it.Offset, Epoch: feed.Header().String(rpc.PositionEpochKey)}

	srv.Stop()
	// Publications during the outage fail, from the server and from a client.
	_, err = b.hub.Publish(ctx, "feed", 2)
	require.Error(t, err)
	_, err = b.hub.Publish(ctx, "news", 2)
	require.Error(t, err)
	_, err = clientgo.Call[rpc.PublishRequest, rpc.Position](ctx, dial(t, b.url), rpc.PublishRPC,
		rpc.PublishRequest{Channel: "news", Data: 2})
	assert.Equal(t, rpc.CodeUnavailable, rpc.CodeOf(err), "%v", err)
	// So does a new subscription.
	_, err = subscribeErr(ctx, dial(t, a.url), rpc.SubscribeRequest{Channel: "chat.x"})
	assert.Equal(t, rpc.CodeUnavailable, rpc.CodeOf(err), "%v", err)
	eventually(t, "A knows it lost Redis", func() bool { return !a.engine.Stats().Connected })

	srv.Restart()
	eventually(t, "A reconnected", func() bool { return a.engine.Stats().Connected })

	// The subscription without history carries on.
	got := make(chan int, 1)
	go func() {
		if it, err := news.Recv(); err == nil {
			got <- it.Data
		}
		close(got)
	}()
	publishUntil(t, func() error { _, err := b.hub.Publish(ctx, "news", 3); return err }, got)

	// Redis lost the feed's history: its subscriber learns so. Its
	// subscription ends with 503, and subscribing again from its last
	// position says that it could not recover.
	ended := make(chan int, 1)
	go func() {
		_, err := feed.Recv()
		ended <- int(rpc.CodeOf(err))
		close(ended)
	}()
	publishUntil(t, func() error { _, err := b.hub.Publish(ctx, "feed", 10); return err }, ended)
	st := subscribe[int](t, ca, rpc.SubscribeRequest{Channel: "feed", Since: &last})
	assert.Equal(t, false, st.Header()[rpc.RecoveredKey])
	assert.NotEqual(t, last.Epoch, st.Header().String(rpc.PositionEpochKey))
	_, err = b.hub.Publish(ctx, "feed", 11)
	require.NoError(t, err)
	assert.Equal(t, 11, recv(t, st).Data)
}

// publishUntil publishes until got yields a value (A's subscription
// takes its first publication after Redis came back, or ends), and fails
// t when it yields none within 20s.
func publishUntil(t *testing.T, publish func() error, got <-chan int) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		_ = publish() // B's own connections may still be coming back
		select {
		case v, ok := <-got:
			require.True(t, ok, "the stream ended without a value")
			if v == int(rpc.CodeOf(nil)) {
				t.Fatal("the stream ended without an error")
			}
			return
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatal("nothing arrived within 20s of Redis coming back")
		}
	}
}

func subscribeErr(ctx context.Context, c *clientgo.Client, req rpc.SubscribeRequest) (rpc.Metadata, error) {
	st, err := clientgo.CallServerStream[rpc.SubscribeRequest, item[any]](ctx, c, rpc.SubscribeRPC, req)
	if err != nil {
		return nil, err
	}
	return st.WaitHeader(ctx)
}

// proxy forwards TCP connections to a Redis server until cut, when it
// closes them all and refuses new ones: a node behind it loses Redis as
// if it had crashed or its network had.
type proxy struct {
	url string
	ln  net.Listener

	mu    sync.Mutex
	conns []net.Conn
	wg    sync.WaitGroup
}

func startProxy(t *testing.T, redisURL string) *proxy {
	t.Helper()
	opt, err := redis.ParseURL(redisURL)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &proxy{url: "redis://" + ln.Addr().String() + "/0", ln: ln}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", opt.Addr)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(c, up)
			go p.pipe(up, c)
		}
	}()
	t.Cleanup(p.cut)
	return p
}

func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, err := io.Copy(dst, src)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		dst.Close()
	}
	dst.Close()
}

func (p *proxy) cut() {
	p.ln.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
