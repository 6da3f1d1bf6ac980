package clientgo_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/swill"
)

// ChatMessage is the message type of the examples' chat channels.
type ChatMessage struct {
	User string `msgpack:"user"`
	Text string `msgpack:"text"`
}

// startChat serves a pubsub hub with chat channels ("chat.*", typed,
// with history and joins and leaves) on a loopback port, letting clients
// publish; it returns the URL, the hub and a function that stops both.
func startChat() (url string, hub *pubsub.Hub, stop func()) {
	hub, err := pubsub.New(
		pubsub.WithChannels(pubsub.Channel[ChatMessage]("chat.*", pubsub.WithHistory(100, 0), pubsub.WithJoinLeave())),
		pubsub.WithHooks(pubsub.Hooks{
			OnSubscribe: func(ctx context.Context, ev *pubsub.SubscribeEvent) error {
				ev.User = ev.Call.Metadata().String("user")
				return nil
			},
			OnPublish: func(ctx context.Context, ev *pubsub.PublishEvent) error { return nil },
		}))
	if err != nil {
		panic(err)
	}
	srv := swill.NewServer()
	if err := srv.Mount(hub); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs := httptest.NewServer(mux)
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws", hub, func() {
		hs.Close()
		srv.Shutdown(context.Background())
		hub.Close()
	}
}

func ExampleSubscribe() {
	url, _, stop := startChat()
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	// Subscribe returns once the server confirmed the subscription.
	sub, err := clientgo.Subscribe[ChatMessage](ctx, c, "chat.lobby",
		clientgo.WithSubscribeMetadata(rpc.Metadata{"user": "ann"}))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := clientgo.Publish(ctx, c, "chat.lobby", ChatMessage{User: "ann", Text: "hello"}); err != nil {
		log.Fatal(err)
	}

	for m, err := range sub.All() {
		switch {
		case errors.Is(err, clientgo.ErrUnrecovered):
			// Publications were lost while away: reload the state
			// (with clientgo.History, for one); the loop goes on live.
			continue
		case err != nil:
			log.Fatal(err)
		}
		switch m.Kind() {
		case clientgo.KindJoin, clientgo.KindLeave:
			// The channel has joins and leaves: ann's own join comes
			// too, before or after her message.
		case clientgo.KindPublication:
			fmt.Printf("%d %s: %s\n", m.Offset, m.Data.User, m.Data.Text)
			cancel() // ends the subscription: CANCEL goes to the server
		}
	}
	// Output:
	// 1 ann: hello
}

// History on join: show the latest messages, then subscribe from their
// position, so that nothing is missed or shown twice in between.
func ExampleHistory() {
	url, hub, stop := startChat()
	defer stop()
	ctx := context.Background()
	for _, text := range []string{"one", "two", "three"} {
		if _, err := hub.Publish(ctx, "chat.room", ChatMessage{User: "bob", Text: text}); err != nil {
			log.Fatal(err)
		}
	}
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	latest, pos, err := clientgo.History[ChatMessage](ctx, c, "chat.room", 2)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range latest {
		fmt.Println(m.Offset, m.Data.Text)
	}
	// Published between the history and the subscription: not lost.
	if _, err := hub.Publish(ctx, "chat.room", ChatMessage{User: "bob", Text: "four"}); err != nil {
		log.Fatal(err)
	}
	sub, err := clientgo.Subscribe[ChatMessage](ctx, c, "chat.room", clientgo.Since(pos))
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	for {
		m, err := sub.Recv()
		if err != nil {
			log.Fatal(err)
		}
		if m.Kind() == clientgo.KindPublication {
			fmt.Println(m.Offset, m.Data.Text)
			break
		}
	}
	// Output:
	// 2 two
	// 3 three
	// 4 four
}

// A pattern subscription receives the publications of every matching
// channel; each message names its channel.
func ExampleSubscribePattern() {
	url, hub, stop := startChat()
	defer stop()
	ctx := context.Background()
	c, err := clientgo.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	sub, err := clientgo.SubscribePattern[ChatMessage](ctx, c, "chat.*")
	if err != nil {
		log.Fatal(err)
	}
	defer sub.Close()
	hub.Publish(ctx, "chat.a", ChatMessage{User: "ann", Text: "in a"})
	hub.Publish(ctx, "chat.b", ChatMessage{User: "bob", Text: "in b"})
	for i := 0; i < 2; i++ {
		m, err := sub.Recv()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(m.Channel, m.Data.Text)
	}
	// Output:
	// chat.a in a
	// chat.b in b
}
