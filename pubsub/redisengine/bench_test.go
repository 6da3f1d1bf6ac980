package redisengine_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swillorg/swill-go/internal/redistest"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/pubsub/redisengine"
)

func benchClient(b *testing.B) *redis.Client {
	opt, err := redis.ParseURL(redistest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	c := redis.NewClient(opt)
	b.Cleanup(func() { c.Close() })
	return c
}

// BenchmarkPublish measures one publication through Redis, with history
// (the Lua script) and without (a plain PUBLISH), from one goroutine and
// from many:
//
//	go test -run '^$' -bench Publish ./pubsub/redisengine/
func BenchmarkPublish(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts pubsub.PublishOptions
	}{
		{"history", pubsub.PublishOptions{HistorySize: 100}},
		{"plain", pubsub.PublishOptions{}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := redisengine.New(benchClient(b), redisengine.WithPrefix(redistest.Prefix(b)))
			if err := e.Start(context.Background(), func(string, bool, pubsub.Publication) {}); err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			pub := pubsub.Publication{Channel: "bench", Data: make([]byte, 64)}
			b.Run("serial", func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					if _, err := e.Publish(context.Background(), pub, bc.opts); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := e.Publish(context.Background(), pub, bc.opts); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}

// BenchmarkAcrossEngines measures publications with history made by one
// engine and delivered by another, subscribed, through one Redis: the
// time per publication until the last one is delivered.
func BenchmarkAcrossEngines(b *testing.B) {
	prefix := redistest.Prefix(b)
	var got atomic.Int64
	done := make(chan struct{}, 1)
	var want atomic.Int64
	sub := redisengine.New(benchClient(b), redisengine.WithPrefix(prefix))
	if err := sub.Start(context.Background(), func(string, bool, pubsub.Publication) {
		if got.Add(1) == want.Load() {
			done <- struct{}{}
		}
	}); err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	pubE := redisengine.New(benchClient(b), redisengine.WithPrefix(prefix))
	if err := pubE.Start(context.Background(), func(string, bool, pubsub.Publication) {}); err != nil {
		b.Fatal(err)
	}
	defer pubE.Close()
	if err := sub.Subscribe(context.Background(), "bench", false); err != nil {
		b.Fatal(err)
	}
	pub := pubsub.Publication{Channel: "bench", Data: make([]byte, 64)}
	opts := pubsub.PublishOptions{HistorySize: 100}
	b.ResetTimer()
	got.Store(0)
	want.Store(int64(b.N))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := pubE.Publish(context.Background(), pub, opts); err != nil {
				b.Error(err)
				return
			}
		}
	})
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		b.Fatalf("%d of %d delivered", got.Load(), b.N)
	}
	if s := sub.Stats(); s.Recovered != 0 || s.Reconnects != 0 {
		b.Logf("stats %+v", s)
	}
}
