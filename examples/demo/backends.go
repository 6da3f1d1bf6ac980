package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/pubsub/redisengine"
	"github.com/swillorg/swill-go/session"
	"github.com/swillorg/swill-go/session/redisstore"
	"github.com/swillorg/swill-go/swill"
)

// backends are the demo's pub/sub engine and session manager: on the
// Redis at -redis, shared with every demo process on it, or in this
// process when -redis is empty.
type backends struct {
	engine   pubsub.Engine // nil: the hub's in-process default
	sessions *session.Manager
	close    func()
}

func newBackends(ctx context.Context, redisURL string, logger *slog.Logger) (*backends, error) {
	if redisURL == "" {
		return &backends{sessions: session.New(session.WithLogger(logger)), close: func() {}}, nil
	}
	opt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, fmt.Errorf("-redis: %w", err)
	}
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("-redis %s: %w", redisURL, err)
	}
	return &backends{
		engine:   redisengine.New(rdb, redisengine.WithLogger(logger)),
		sessions: session.New(session.WithStore(redisstore.New(rdb)), session.WithLogger(logger)),
		close:    func() { rdb.Close() },
	}, nil
}

// registerVisits registers demo.visits, which counts the calls of the
// client's session: the count goes on across reconnects and, with
// -redis, across demo processes.
func registerVisits(srv *swill.Server, node string) error {
	return srv.Register(swill.Unary("demo.visits", func(ctx context.Context, _ codec.None) (Visits, error) {
		s := session.FromContext(ctx)
		if s == nil {
			return Visits{}, fmt.Errorf("no session")
		}
		// What this client's other connections wrote since this one opened.
		if err := s.Reload(ctx); err != nil {
			return Visits{}, err
		}
		var n int
		if _, err := s.Get("visits", &n); err != nil {
			return Visits{}, err
		}
		n++
		return Visits{Node: node, Visits: n}, s.Set(ctx, "visits", n)
	}, swill.WithDoc("Counts this client's calls in its session, and names the node that answered.")))
}

// Visits is demo.visits's answer.
type Visits struct {
	// Node is the address of the demo process that answered.
	Node string `msgpack:"node"`
	// Visits counts the session's calls of demo.visits, this one included.
	Visits int `msgpack:"visits"`
}
