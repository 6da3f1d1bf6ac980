package pubsub_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

type ChatMessage struct {
	User string `msgpack:"user"`
	Text string `msgpack:"text"`
}

// A hub mounted on a server: a client subscribes to a chat room over a
// plain server-stream call, and server code publishes to it.
func Example() {
	hub, err := pubsub.New(pubsub.WithChannels(
		pubsub.Channel[ChatMessage]("chat.*", pubsub.WithHistory(100, time.Hour)),
	))
	if err != nil {
		panic(err)
	}
	defer hub.Close()
	srv := swill.NewServer()
	if err := srv.Mount(hub); err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := clientgo.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	type item struct {
		Channel string      `msgpack:"channel"`
		Data    ChatMessage `msgpack:"data"`
		Offset  uint64      `msgpack:"offset"`
	}
	sub, err := clientgo.CallServerStream[rpc.SubscribeRequest, item](ctx, c, rpc.SubscribeRPC,
		rpc.SubscribeRequest{Channel: "chat.lobby"})
	if err != nil {
		panic(err)
	}
	if _, err := sub.WaitHeader(ctx); err != nil { // subscribed
		panic(err)
	}

	if _, err := hub.Publish(ctx, "chat.lobby", ChatMessage{User: "ann", Text: "hello"}); err != nil {
		panic(err)
	}
	it, err := sub.Recv()
	if err != nil {
		panic(err)
	}
	fmt.Println(it.Channel, it.Offset, it.Data.User+":", it.Data.Text)
	// Output: chat.lobby 1 ann: hello
}

// Hooks decide who may subscribe and publish; a refusal reaches the
// client as a coded error.
func ExampleHooks() {
	hooks := pubsub.Hooks{
		OnSubscribe: func(ctx context.Context, ev *pubsub.SubscribeEvent) error {
			user := ev.Call.Metadata().String("user")
			if user == "" {
				return rpc.NewError(rpc.CodeUnauthorized, "log in first")
			}
			if strings.HasPrefix(ev.Channel, "user.") && ev.Channel != "user."+user {
				return rpc.NewError(rpc.CodeForbidden, "not your channel")
			}
			ev.User = user // shown in presence, joins and leaves
			return nil
		},
		OnPublish: func(ctx context.Context, ev *pubsub.PublishEvent) error {
			if !strings.HasPrefix(ev.Channel, "chat.") {
				return rpc.NewError(rpc.CodeForbidden, "clients publish to chat rooms only")
			}
			return nil
		},
	}
	hub, err := pubsub.New(pubsub.WithHooks(hooks))
	if err != nil {
		panic(err)
	}
	defer hub.Close()
	fmt.Println(len(hub.Builtins()), "built-in calls")
	// Output: 6 built-in calls
}

// The server subscribes each connection to its user's channel as it
// connects; the client reads those publications from its inbox.
func ExampleHub_Subscribe() {
	hub, err := pubsub.New()
	if err != nil {
		panic(err)
	}
	defer hub.Close()
	subscribed := make(chan struct{})
	srv := swill.NewServer(swill.WithHooks(swill.Hooks{
		AfterAccept: func(ctx context.Context, conn *swill.Conn) error {
			defer close(subscribed)
			return hub.Subscribe(ctx, conn, "user.42", false)
		},
	}))
	if err := srv.Mount(hub); err != nil {
		panic(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer srv.Shutdown(context.Background())

	ctx := context.Background()
	c, err := clientgo.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http"))
	if err != nil {
		panic(err)
	}
	defer c.Close()
	inbox, err := clientgo.CallServerStream[any, pubsub.Message](ctx, c, rpc.InboxRPC, nil)
	if err != nil {
		panic(err)
	}
	if _, err := inbox.WaitHeader(ctx); err != nil {
		panic(err)
	}
	<-subscribed
	if _, err := hub.Publish(ctx, "user.42", "you have mail"); err != nil {
		panic(err)
	}
	m, err := inbox.Recv()
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Channel, m.Data)
	// Output: user.42 you have mail
}

func ExampleMatch() {
	fmt.Println(pubsub.Match("chat.*", "chat.lobby"), pubsub.Match("user.[0-9]*", "user.x"))
	// Output: true false
}
