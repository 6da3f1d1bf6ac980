package redisengine_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swillorg/swill-go/internal/redistest"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/pubsub/redisengine"
	"github.com/swillorg/swill-go/rpc"
)

var history = pubsub.PublishOptions{HistorySize: 3}

func TestPublishCrossesEngines(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	ctx := context.Background()
	a, ra := startEngine(t, newClient(t, url), prefix)
	b, rb := startEngine(t, newClient(t, url), prefix)
	require.NoError(t, a.Subscribe(ctx, "chat.lobby", false))
	require.NoError(t, a.Subscribe(ctx, "chat.*", true))
	require.NoError(t, b.Subscribe(ctx, "chat.lobby", false))

	pos, err := b.Publish(ctx, pubsub.Publication{Channel: "chat.lobby", Data: []byte{1}}, history)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), pos.Offset)
	assert.NotEmpty(t, pos.Epoch)
	_, err = a.Publish(ctx, pubsub.Publication{Channel: "chat.other", Data: []byte{2}}, pubsub.PublishOptions{})
	require.NoError(t, err)
	_, err = a.Publish(ctx, pubsub.Publication{Channel: "chat.lobby", Join: []byte{0x80}}, history)
	require.NoError(t, err)

	got := ra.wait(t, 5)
	// The exact key and the pattern each get chat.lobby's publications, in order.
	var exact, pattern []delivery
	for _, d := range got {
		if d.pattern {
			pattern = append(pattern, d)
		} else {
			exact = append(exact, d)
		}
	}
	require.Len(t, exact, 2)
	assert.Equal(t, pubsub.Publication{Channel: "chat.lobby", Data: []byte{1}, Offset: 1, Epoch: pos.Epoch}, exact[0].pub)
	assert.Equal(t, "chat.lobby", exact[0].key)
	assert.Equal(t, []byte{0x80}, exact[1].pub.Join, "a join, without history")
	assert.Zero(t, exact[1].pub.Offset)
	require.Len(t, pattern, 3)
	for _, d := range pattern {
		assert.Equal(t, "chat.*", d.key)
	}
	assert.Equal(t, "chat.other", pattern[1].pub.Channel)
	assert.Equal(t, []byte{2}, pattern[1].pub.Data)

	got = rb.wait(t, 2)
	assert.Equal(t, uint64(1), got[0].pub.Offset)

	// After Unsubscribe nothing more arrives for the key.
	require.NoError(t, a.Unsubscribe(ctx, "chat.lobby", false))
	require.NoError(t, a.Unsubscribe(ctx, "chat.*", true))
	_, err = b.Publish(ctx, pubsub.Publication{Channel: "chat.lobby", Data: []byte{3}}, history)
	require.NoError(t, err)
	rb.wait(t, 3)
	assert.Equal(t, 5, ra.count())
}

// TestOneRedisSubscriptionPerKey checks that the engine holds one Redis
// subscription per channel and pattern, which PUBSUB NUMSUB and NUMPAT
// count.
func TestOneRedisSubscriptionPerKey(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	ctx := context.Background()
	rdb := newClient(t, url)
	a, _ := startEngine(t, newClient(t, url), prefix)
	require.NoError(t, a.Subscribe(ctx, "x", false))
	n, err := rdb.PubSubNumSub(ctx, prefix+"x").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n[prefix+"x"])
	require.NoError(t, a.Unsubscribe(ctx, "x", false))
	eventually(t, "the channel unsubscribed in Redis", func() bool {
		n, err := rdb.PubSubNumSub(ctx, prefix+"x").Result()
		return err == nil && n[prefix+"x"] == 0
	})
}

func TestHistory(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	ctx := context.Background()
	e, _ := startEngine(t, newClient(t, url), prefix)
	hopts := pubsub.HistoryOptions{Limit: -1, PublishOptions: history}

	// A channel without history has no position; one with history gets
	// an epoch on its first read.
	pubs, pos, err := e.History(ctx, "none", pubsub.HistoryOptions{Limit: -1})
	require.NoError(t, err)
	assert.Empty(t, pubs)
	assert.Equal(t, rpc.Position{}, pos)
	_, pos, err = e.History(ctx, "feed", hopts)
	require.NoError(t, err)
	require.NotEmpty(t, pos.Epoch)
	epoch := pos.Epoch
	assert.Zero(t, pos.Offset)

	for i := 1; i <= 5; i++ {
		p, err := e.Publish(ctx, pubsub.Publication{Channel: "feed", Data: []byte{byte(i)}}, history)
		require.NoError(t, err)
		assert.Equal(t, rpc.Position{Offset: uint64(i), Epoch: epoch}, p, "the epoch made by History stays")
	}
	offsets := func(pubs []pubsub.Publication) (out []uint64) {
		for _, p := range pubs {
			out = append(out, p.Offset)
			assert.Equal(t, []byte{byte(p.Offset)}, p.Data)
			assert.Equal(t, epoch, p.Epoch)
			assert.Equal(t, "feed", p.Channel)
		}
		return out
	}
	pubs, pos, err = e.History(ctx, "feed", hopts)
	require.NoError(t, err)
	assert.Equal(t, rpc.Position{Offset: 5, Epoch: epoch}, pos)
	assert.Equal(t, []uint64{3, 4, 5}, offsets(pubs), "capped at the history size")

	for _, tc := range []struct {
		since *rpc.Position
		limit int
		want  []uint64
	}{
		{nil, 2, []uint64{4, 5}},
		{nil, 0, nil},
		{&rpc.Position{Offset: 3}, -1, []uint64{4, 5}},
		{&rpc.Position{Offset: 3}, 1, []uint64{4}},
		{&rpc.Position{Offset: 5}, -1, nil},
		{&rpc.Position{Offset: 0}, -1, []uint64{3, 4, 5}},
	} {
		pubs, _, err := e.History(ctx, "feed", pubsub.HistoryOptions{Since: tc.since, Limit: tc.limit, PublishOptions: history})
		require.NoError(t, err)
		assert.Equal(t, tc.want, offsets(pubs), "since %v limit %d", tc.since, tc.limit)
	}
}

func TestHistoryTTL(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	ctx := context.Background()
	rdb := newClient(t, url)
	e, _ := startEngine(t, newClient(t, url), prefix)
	const ttl = 100 * time.Millisecond
	opts := pubsub.PublishOptions{HistorySize: 10, HistoryTTL: ttl}
	published := time.Now()
	p1, err := e.Publish(ctx, pubsub.Publication{Channel: "t", Data: []byte{1}}, opts)
	require.NoError(t, err)
	keys, err := rdb.Keys(ctx, prefix+"*").Result() // the channel's history and position
	require.NoError(t, err)
	require.NotEmpty(t, keys)
	// Quiet for longer than the TTL. Real time: Redis's clock must pass
	// the keys' TTL.
	eventually(t, "the history expired in Redis", func() bool {
		n, err := rdb.Exists(ctx, keys...).Result()
		return err == nil && n == 0
	})
	assert.GreaterOrEqual(t, time.Since(published), ttl, "not before its TTL")
	p2, err := e.Publish(ctx, pubsub.Publication{Channel: "t", Data: []byte{2}}, opts)
	require.NoError(t, err)
	assert.Equal(t, uint64(1), p2.Offset, "a new history")
	assert.NotEqual(t, p1.Epoch, p2.Epoch, "in a new epoch")
	pubs, _, err := e.History(ctx, "t", pubsub.HistoryOptions{Limit: -1, PublishOptions: opts})
	require.NoError(t, err)
	require.Len(t, pubs, 1)
	assert.Equal(t, []byte{2}, pubs[0].Data)
}

func TestPresence(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	ctx := context.Background()
	a, _ := startEngine(t, newClient(t, url), prefix)
	b, _ := startEngine(t, newClient(t, url), prefix)
	require.NoError(t, a.AddPresence(ctx, "room", "c1", []byte("one"), time.Minute))
	const ttl = 200 * time.Millisecond
	added := time.Now()
	require.NoError(t, b.AddPresence(ctx, "room", "c2", []byte("two"), ttl))
	m, err := b.Presence(ctx, "room")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"c1": []byte("one"), "c2": []byte("two")}, m)

	// c2 is not refreshed: it leaves the list once Redis's clock has
	// passed its TTL (real time: it is Redis's clock); c1 stays.
	eventually(t, "c2's entry expired", func() bool {
		m, err := a.Presence(ctx, "room")
		return err == nil && len(m) < 2
	})
	assert.GreaterOrEqual(t, time.Since(added), ttl, "not before its TTL")
	m, err = a.Presence(ctx, "room")
	require.NoError(t, err)
	assert.Equal(t, map[string][]byte{"c1": []byte("one")}, m)

	require.NoError(t, a.RemovePresence(ctx, "room", "c1"))
	m, err = b.Presence(ctx, "room")
	require.NoError(t, err)
	assert.Empty(t, m)
}

func TestClosed(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	ctx := context.Background()
	e, _ := startEngine(t, newClient(t, url), prefix)
	require.NoError(t, e.Close())
	require.NoError(t, e.Close(), "twice")
	_, err := e.Publish(ctx, pubsub.Publication{Channel: "x"}, history)
	assert.ErrorIs(t, err, pubsub.ErrEngineClosed)
	assert.ErrorIs(t, e.Subscribe(ctx, "x", false), pubsub.ErrEngineClosed)
	_, _, err = e.History(ctx, "x", pubsub.HistoryOptions{})
	assert.ErrorIs(t, err, pubsub.ErrEngineClosed)
	_, err = e.Presence(ctx, "x")
	assert.ErrorIs(t, err, pubsub.ErrEngineClosed)
}

func TestStartFailsWithoutRedis(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL()
	srv.Stop()
	e := redisengine.New(newClient(t, url))
	err := e.Start(context.Background(), func(string, bool, pubsub.Publication) {})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "reaching Redis")
	require.NoError(t, e.Close())
}

// TestConnectionLostNothingMissed cuts the engine's subscription
// connection while another engine publishes: it reconnects, reads what
// it missed from history, and delivers every publication once, in order.
func TestConnectionLostNothingMissed(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	ctx := context.Background()
	rdb := newClient(t, url)
	name := "a" + strings.Trim(prefix, ":")
	// The backoff keeps the engine away for over half a second, while
	// the other publishes.
	a, ra := startEngine(t, newNamedClient(t, url, name), prefix, redisengine.WithBackoff(time.Second, 2*time.Second))
	b, _ := startEngine(t, newClient(t, url), prefix)
	opts := pubsub.PublishOptions{HistorySize: 100}
	require.NoError(t, a.Subscribe(ctx, "feed", false))
	publish := func(i int) {
		_, err := b.Publish(ctx, pubsub.Publication{Channel: "feed", Data: []byte{byte(i)}}, opts)
		require.NoError(t, err)
	}
	for i := 1; i <= 3; i++ {
		publish(i)
	}
	ra.wait(t, 3)
	killSubscriptions(t, rdb, name)
	for i := 4; i <= 10; i++ {
		publish(i)
	}
	eventually(t, "a reconnected", func() bool { return a.Stats().Reconnects >= 1 })
	for i := 11; i <= 12; i++ {
		publish(i)
	}
	got := ra.wait(t, 12)
	assert.NotZero(t, a.Stats().Recovered, "read from history")
	for i, d := range got {
		assert.Equal(t, uint64(i+1), d.pub.Offset)
		assert.Equal(t, []byte{byte(i + 1)}, d.pub.Data)
	}
	// No duplicate comes late either: the next publication is the next
	// delivery.
	publish(13)
	got = ra.wait(t, 13)
	assert.Equal(t, uint64(13), got[12].pub.Offset, "no duplicates")
	assert.Equal(t, 13, ra.count(), "no duplicates")
}

// killSubscriptions closes, from the Redis side, the subscription
// connections of the clients named name, as a network fault would.
func killSubscriptions(t *testing.T, rdb *redis.Client, name string) {
	t.Helper()
	list, err := rdb.ClientList(context.Background()).Result()
	require.NoError(t, err)
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		f := map[string]string{}
		for _, kv := range strings.Fields(line) {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = v
		}
		if f["name"] == name && (f["sub"] != "0" || f["psub"] != "0") {
			require.NoError(t, rdb.Do(context.Background(), "CLIENT", "KILL", "ID", f["id"]).Err())
			killed++
		}
	}
	require.NotZero(t, killed, "no subscription connection named %q", name)
}

func TestMalformedMessagesDropped(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	ctx := context.Background()
	rdb := newClient(t, url)
	e, r := startEngine(t, newClient(t, url), prefix)
	require.NoError(t, e.Subscribe(ctx, "x", false))
	for _, bad := range []string{"", "d", "d1", "dx:e:", "d1:e", "q0::a"} {
		require.NoError(t, rdb.Publish(ctx, prefix+"x", bad).Err())
	}
	require.NoError(t, rdb.Publish(ctx, prefix+"x", "d0::\x01").Err())
	got := r.wait(t, 1)
	assert.Equal(t, []byte{1}, got[0].pub.Data, "the good one after the bad ones")
	assert.Equal(t, uint64(6), e.Stats().Dropped)
}
