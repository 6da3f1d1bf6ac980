package chat_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/examples/demo/chat"
	"github.com/swillorg/swill-go/internal/nodetest"
	"github.com/swillorg/swill-go/internal/redistest"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/pubsub/redisengine"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start serves the chat on engine (nil: in-process) on a loopback port,
// and returns it with a function that posts to room test.
func start(t *testing.T, engine pubsub.Engine) (*httptest.Server, func(ctx context.Context, text string)) {
	t.Helper()
	hub, err := chat.NewHub(engine)
	require.NoError(t, err)
	srv := swill.NewServer(swill.WithInsecureSkipOriginCheck())
	require.NoError(t, chat.Register(srv, hub))
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.Handle("/chat/", http.StripPrefix("/chat", chat.Handler()))
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx))
		hub.Close()
	})
	post := func(ctx context.Context, text string) {
		_, err := hub.Publish(ctx, "room.test", chat.Message{User: "bot", Text: text, Time: time.Now()})
		require.NoError(t, err)
	}
	return hs, post
}

// chat.send stamps the message with its user and refuses the anonymous.
func TestSend(t *testing.T) {
	hs, _ := start(t, nil)
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, "ws"+hs.URL[len("http"):]+"/ws", clientgo.WithoutReconnect())
	require.NoError(t, err)
	defer c.Close()

	_, err = clientgo.Call[chat.SendRequest, rpc.Position](ctx, c, "chat.send", chat.SendRequest{Room: "test", Text: "hi"})
	assert.Equal(t, rpc.CodeUnauthorized, rpc.CodeOf(err))
	_, err = clientgo.Call[chat.SendRequest, rpc.Position](ctx, c, "chat.send", chat.SendRequest{Room: "a b", Text: "hi"},
		clientgo.WithMetadata(rpc.Metadata{chat.UserKey: "ann"}))
	assert.Equal(t, rpc.CodeBadRequest, rpc.CodeOf(err))

	md := clientgo.WithMetadata(rpc.Metadata{chat.UserKey: "ann"})
	for _, text := range []string{"one", "two"} {
		_, err := clientgo.Call[chat.SendRequest, rpc.Position](ctx, c, "chat.send", chat.SendRequest{Room: "test", Text: text}, md)
		require.NoError(t, err)
	}
	type item struct {
		Data chat.Message `msgpack:"data"`
	}
	h, err := clientgo.Call[rpc.HistoryRequest, struct {
		Publications []item       `msgpack:"publications"`
		Position     rpc.Position `msgpack:"position"`
	}](ctx, c, rpc.HistoryRPC, rpc.HistoryRequest{Channel: "room.test", Limit: 10}, md)
	require.NoError(t, err)
	require.Len(t, h.Publications, 2)
	assert.Equal(t, "ann", h.Publications[0].Data.User)
	assert.Equal(t, "two", h.Publications[1].Data.Text)
	assert.Equal(t, uint64(2), h.Position.Offset)
}

// The chat page in headless Chromium, two pages as two people: history
// on joining, presence, messages both ways, a join and a leave (see
// e2e/chat.mjs). Needs SWILL_NODE_TESTS=1 (see package nodetest).
func TestBrowserChat(t *testing.T) {
	hs, post := start(t, nil)
	post(context.Background(), "welcome to the test room")
	browserChat(t, "chat.png", hs.URL+"/chat/")
}

// TestBrowserChatTwoNodes is TestBrowserChat with the two people on two
// nodes that share one real Redis through the Redis engine.
func TestBrowserChatTwoNodes(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	engine := func() pubsub.Engine {
		opt, err := redis.ParseURL(url)
		require.NoError(t, err)
		rdb := redis.NewClient(opt)
		t.Cleanup(func() { rdb.Close() }) // after the hub's Close
		return redisengine.New(rdb, redisengine.WithPrefix(prefix))
	}
	a, post := start(t, engine())
	b, _ := start(t, engine())
	post(context.Background(), "welcome to the test room")
	browserChat(t, "chat-two-nodes.png", a.URL+"/chat/", b.URL+"/chat/")
}

// browserChat runs e2e/chat.mjs on the chat page at urls[0] (and the
// second person's at urls[1], if given).
func browserChat(t *testing.T, shotName string, urls ...string) {
	t.Helper()
	tools := nodetest.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tools.RunBrowser(ctx, t, filepath.Join("e2e", "chat.mjs"), urls[0], shotName, urls[1:]...)
}
