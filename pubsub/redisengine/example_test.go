package redisengine_test

import (
	"context"
	"log"

	"github.com/redis/go-redis/v9"

	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/pubsub/redisengine"
	"github.com/swillorg/swill-go/swill"
)

// Every process of the application builds its hub on the same Redis; a
// publication in any of them reaches the subscribers of all, and a
// client recovers its gap from whichever it reconnects to.
func Example() {
	opt, err := redis.ParseURL("redis://127.0.0.1:6379/0")
	if err != nil {
		log.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()

	hub, err := pubsub.New(
		pubsub.WithEngine(redisengine.New(rdb)),
		pubsub.WithChannels(pubsub.Channel[string]("chat.*", pubsub.WithHistory(100, 0))),
	)
	if err != nil {
		log.Fatal(err) // Redis cannot be reached
	}
	defer hub.Close()
	srv := swill.NewServer()
	if err := srv.Mount(hub); err != nil {
		log.Fatal(err)
	}
	if _, err := hub.Publish(context.Background(), "chat.lobby", "hello"); err != nil {
		log.Print(err) // not delivered: Redis did not take it
	}
}
