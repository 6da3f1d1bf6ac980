package playground_test

import (
	"context"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/internal/nodetest"
	"github.com/swillorg/swill-go/playground"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/swill/validate"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "also save the browser test's screenshot as docs/playground.png")

// The page, in headless Chromium, against the demo served under a path
// prefix: e2e/browser.mjs calls add, watches countdown stream, sends three
// items into echo, cancels sleep, and checks metadata and errors; the
// server sees the CANCEL. The screenshot is saved to
// test-artifacts/playground.png (and docs/playground.png with
// -update-screenshot). Needs SWILL_NODE_TESTS=1 (see package nodetest).
func TestBrowser(t *testing.T) {
	tools := nodetest.Require(t)

	ended := make(chan swill.Outcome, 1)
	srv := swill.NewServer(
		swill.WithValidator(validate.New()),
		swill.WithVersion("demo"),
		swill.WithHooks(swill.Hooks{AfterRequest: func(ctx context.Context, call *swill.Call, out swill.Outcome) {
			if call.Name() == "sleep" {
				select {
				case ended <- out:
				default:
				}
			}
		}}),
	)
	require.NoError(t, demosvc.Register(srv))
	mux := http.NewServeMux()
	mux.Handle("/api/ws", srv)
	mux.Handle("/api/docs/", playground.Handler(srv, playground.WithTitle("swill demo")))
	hs := httptest.NewServer(mux)
	defer func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx))
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	shot := tools.RunBrowser(ctx, t, filepath.Join("e2e", "browser.mjs"), hs.URL+"/api/docs/", "playground.png")

	select {
	case o := <-ended:
		assert.True(t, o.Canceled, "the server saw the CANCEL of sleep")
	case <-time.After(10 * time.Second):
		t.Fatal("the server never saw sleep end")
	}

	png, err := os.ReadFile(shot)
	require.NoError(t, err)
	require.True(t, len(png) > 8 && string(png[1:4]) == "PNG", "the screenshot is a PNG")
	if *updateScreenshot {
		require.NoError(t, os.WriteFile(filepath.Join(tools.Root, "docs", "playground.png"), png, 0o644))
	}
}

// ChatMessage is the message of the test's chat channels.
type ChatMessage struct {
	User string `msgpack:"user" validate:"required,min=1"`
	Text string `msgpack:"text"`
}

// The page's channels, in headless Chromium: e2e/channels.mjs checks that
// the declared channels are listed with their message types and
// settings, subscribes to chat.lobby and sees the publication this test
// makes server-side once the page is subscribed, publishes from the page
// and sees that come back, and unsubscribes. The screenshot is saved to
// test-artifacts/playground-channels.png. Needs SWILL_NODE_TESTS=1.
func TestBrowserChannels(t *testing.T) {
	tools := nodetest.Require(t)

	hub, err := pubsub.New(
		pubsub.WithChannels(
			pubsub.Channel[ChatMessage]("chat.*", pubsub.WithHistory(10, 0), pubsub.WithJoinLeave(),
				pubsub.ChannelDoc("Chat rooms, one channel per room.")),
			pubsub.Untyped("ticker"),
		),
		pubsub.WithHooks(pubsub.Hooks{OnPublish: func(ctx context.Context, ev *pubsub.PublishEvent) error {
			if strings.HasPrefix(ev.Channel, "chat.") {
				return nil
			}
			return &rpc.Error{Code: rpc.CodeForbidden, Message: "server only"}
		}}),
	)
	require.NoError(t, err)
	defer hub.Close()
	srv := swill.NewServer(swill.WithValidator(validate.New()), swill.WithVersion("demo"))
	require.NoError(t, demosvc.Register(srv))
	require.NoError(t, srv.Mount(hub))
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.Handle("/docs/", playground.Handler(srv, playground.WithTitle("swill chat")))
	hs := httptest.NewServer(mux)
	defer func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx))
	}()

	// Publish on chat.lobby once the page is subscribed to it (presence
	// lists it): the page must show the publication as it arrives.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	published := make(chan error, 1)
	go func() {
		for {
			if ps, err := hub.Presence(ctx, "chat.lobby"); err == nil && len(ps) > 0 {
				_, err := hub.Publish(ctx, "chat.lobby", ChatMessage{User: "server", Text: "hello from the server"})
				published <- err
				return
			}
			select {
			case <-ctx.Done():
				published <- ctx.Err()
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()

	tools.RunBrowser(ctx, t, filepath.Join("e2e", "channels.mjs"), hs.URL+"/docs/", "playground-channels.png")
	cancel()
	require.NoError(t, <-published, "the server-side publication")

	// The page's publication reached the hub: the history holds both.
	msgs, _, err := hub.History(context.Background(), "chat.lobby", 10)
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	assert.Equal(t, ChatMessage{User: "page", Text: "hi from the page"}, msgs[1].Data)
}
