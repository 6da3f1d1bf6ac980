package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swillorg/swill-go/internal/swilltest"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
)

type chatMessage struct {
	User string    `msgpack:"user"`
	Text string    `msgpack:"text"`
	At   time.Time `msgpack:"at"`
}

// pubsubServer serves a hub with a typed chat.* channel keeping history,
// and lets clients publish everywhere but on ro.* channels.
func pubsubServer(t *testing.T) (*swilltest.Server, *pubsub.Hub) {
	t.Helper()
	hub, err := pubsub.New(
		pubsub.WithChannels(
			pubsub.Channel[chatMessage]("chat.*", pubsub.WithHistory(10, 0)),
			pubsub.Untyped("ro.*"),
		),
		pubsub.WithHooks(pubsub.Hooks{OnPublish: func(ctx context.Context, ev *pubsub.PublishEvent) error {
			if strings.HasPrefix(ev.Channel, "ro.") {
				return &rpc.Error{Code: rpc.CodeForbidden, Message: "read-only channel"}
			}
			return nil
		}}),
	)
	require.NoError(t, err)
	srv := swilltest.NewServer()
	require.NoError(t, srv.Mount(hub))
	s := swilltest.Start(t, srv)
	t.Cleanup(func() { hub.Close() })
	return s, hub
}

// subscribed starts "swill sub -v args..." and waits until the
// subscription is live (its leading metadata printed).
func subscribed(t *testing.T, ctx context.Context, args ...string) (stdout, stderr *syncBuffer, wait func() int) {
	t.Helper()
	stdout, stderr = newSyncBuffer(), newSyncBuffer()
	wait = background(ctx, strings.NewReader(""), stdout, stderr, append([]string{"sub", "-v"}, args...)...)
	stderr.waitFor(t, "leading metadata: ")
	return stdout, stderr, wait
}

func TestSubPrintsPublicationsUntilInterrupted(t *testing.T) {
	t.Parallel()
	srv, hub := pubsubServer(t)
	ctx, interrupt := context.WithCancel(context.Background())
	defer interrupt()
	stdout, stderr, wait := subscribed(t, ctx, srv.URL, "chat.lobby")

	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	_, err := hub.Publish(context.Background(), "chat.lobby", chatMessage{User: "ada", Text: "hi", At: at})
	require.NoError(t, err)
	_, err = hub.Publish(context.Background(), "chat.other", chatMessage{User: "bob", Text: "elsewhere"})
	require.NoError(t, err)
	_, err = hub.Publish(context.Background(), "chat.lobby", chatMessage{User: "bob", Text: "hello"})
	require.NoError(t, err)
	stdout.waitFor(t, `"hello"`)

	interrupt() // Ctrl-C
	assert.Equal(t, 0, wait(), stderr.String())
	assert.Equal(t,
		`{"channel":"chat.lobby","data":{"at":"2026-01-02T03:04:05Z","text":"hi","user":"ada"},"offset":1}`+"\n"+
			`{"channel":"chat.lobby","data":{"at":"0001-01-01T00:00:00Z","text":"hello","user":"bob"},"offset":2}`+"\n",
		stdout.String())
	assert.Contains(t, stderr.String(), `"swill-offset":0`)
}

func TestSubPattern(t *testing.T) {
	t.Parallel()
	srv, hub := pubsubServer(t)
	stdout, stderr, wait := subscribed(t, context.Background(), "-pattern", "-n", "2", srv.URL, "chat.*")
	for _, ch := range []string{"chat.a", "chat.b"} {
		_, err := hub.Publish(context.Background(), ch, chatMessage{Text: ch})
		require.NoError(t, err)
	}
	assert.Equal(t, 0, wait(), stderr.String())
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], `"channel":"chat.a"`)
	assert.Contains(t, lines[1], `"channel":"chat.b"`)
}

func TestSubSinceRecovers(t *testing.T) {
	t.Parallel()
	srv, hub := pubsubServer(t)
	var pos rpc.Position
	for i := 1; i <= 3; i++ {
		p, err := hub.Publish(context.Background(), "chat.room", chatMessage{Text: fmt.Sprint(i)})
		require.NoError(t, err)
		pos = p
	}
	since := fmt.Sprintf("1:%s", pos.Epoch)
	r := swillCmd(t, nil, "sub", "-n", "2", "-since", since, srv.URL, "chat.room")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	assert.Equal(t,
		`{"channel":"chat.room","data":{"at":"0001-01-01T00:00:00Z","text":"2","user":""},"offset":2}`+"\n"+
			`{"channel":"chat.room","data":{"at":"0001-01-01T00:00:00Z","text":"3","user":""},"offset":3}`+"\n",
		r.stdout)

	// Another epoch: nothing can be recovered, and the command says so.
	ctx, interrupt := context.WithCancel(context.Background())
	_, stderr, wait := subscribed(t, ctx, "-since", "1:other", srv.URL, "chat.room")
	stderr.waitFor(t, "could not be recovered")
	interrupt()
	assert.Equal(t, 0, wait())
	assert.Contains(t, stderr.String(), "swill: note: the publications after 1:other could not be recovered")
}

func TestSubEndsOnServerErrorAndLoss(t *testing.T) {
	t.Parallel()
	srv, hub := pubsubServer(t)
	stdout, stderr, wait := subscribed(t, context.Background(), srv.URL, "chat.x")
	p, err := hub.Publish(context.Background(), "chat.x", chatMessage{Text: "last"})
	require.NoError(t, err)
	stdout.waitFor(t, `"last"`)

	// The hub closes: the subscription ends with the server's 503, and
	// the command says where to resume.
	require.NoError(t, hub.Close())
	assert.Equal(t, 503-390, wait(), stderr.String())
	assert.Contains(t, stderr.String(), `swill-error: {"code":503`)
	assert.Contains(t, stderr.String(), fmt.Sprintf("swill: resume with -since 1:%s\n", p.Epoch))

	// The server goes away: never a success.
	srv2, _ := pubsubServer(t)
	_, stderr, wait = subscribed(t, context.Background(), srv2.URL, "chat.y")
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // end every call at once
	_ = srv2.Shutdown(ctx)
	code := wait()
	assert.Contains(t, []int{exitConnection, 503 - 390}, code, stderr.String())
	assert.Contains(t, stderr.String(), "swill: resume with -since 0:")

	// No server at all.
	r := swillCmd(t, nil, "sub", srv2.URL, "chat.x")
	assert.Equal(t, exitConnection, r.code)
	assert.Contains(t, r.stderr, "connecting to ")
}

func TestSubUsage(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"sub", "ws://127.0.0.1:1/ws"},
		{"sub", "-since", "x", "ws://127.0.0.1:1/ws", "c"},
		{"sub", "-since", "1:e", "-pattern", "ws://127.0.0.1:1/ws", "c.*"},
		{"sub", "-n", "-1", "ws://127.0.0.1:1/ws", "c"},
		{"pub", "ws://127.0.0.1:1/ws", "c"},
		{"pub", "-d", "1", "ws://127.0.0.1:1/ws", "c", "2"},
	} {
		r := swillCmd(t, nil, args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", args, r.stderr)
		assert.NotEmpty(t, r.stderr, "%v", args)
	}
}

func TestPub(t *testing.T) {
	t.Parallel()
	srv, _ := pubsubServer(t)
	stdout, stderr, wait := subscribed(t, context.Background(), "-n", "2", srv.URL, "chat.pub")

	r := swillCmd(t, nil, "pub", srv.URL, "chat.pub", `{"user": "ada", "text": "hi", "at": "2026-05-06T07:08:09Z"}`)
	require.Equal(t, 0, r.code, r.stderr)
	var pos map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &pos), r.stdout)
	assert.Equal(t, float64(1), pos["offset"])
	assert.NotEmpty(t, pos["epoch"])

	r = swillCmd(t, strings.NewReader(`{"user": "bob", "text": "from stdin"}`), "pub", "-d", "@-", srv.URL, "chat.pub")
	require.Equal(t, 0, r.code, r.stderr)

	assert.Equal(t, 0, wait(), stderr.String())
	// The time went as a MsgPack timestamp, as the channel's type says:
	// the server decoded it into chatMessage.At.
	assert.Equal(t,
		`{"channel":"chat.pub","data":{"at":"2026-05-06T07:08:09Z","text":"hi","user":"ada"},"offset":1}`+"\n"+
			`{"channel":"chat.pub","data":{"text":"from stdin","user":"bob"},"offset":2}`+"\n",
		stdout.String(), "the hub checks a client's message against the type, and passes on what was sent")

	// A message that is not of the channel's type is the server's 400.
	r = swillCmd(t, nil, "pub", srv.URL, "chat.pub", `[1, 2]`)
	assert.Equal(t, 400-390, r.code, r.stderr)
	assert.Contains(t, r.stderr, `swill-error: {"code":400`)

	// The server's refusal.
	r = swillCmd(t, nil, "pub", srv.URL, "ro.news", `"hello"`)
	assert.Equal(t, 403-390, r.code)
	assert.Contains(t, r.stderr, `swill-error: {"code":403,"message":"read-only channel"}`)
}
