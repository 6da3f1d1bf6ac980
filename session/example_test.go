package session_test

import (
	"context"
	"log"
	"net/http"

	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/session"
	"github.com/swillorg/swill-go/swill"
)

// A server whose calls keep a per-client counter in the session: the
// browser keeps the session cookie, and the counter goes on across
// reconnects.
func Example() {
	sessions := session.New() // session.WithStore(redisstore.New(rdb)) for several nodes
	srv := swill.NewServer()
	err := srv.Register(swill.Unary("visits", func(ctx context.Context, _ codec.None) (int, error) {
		s := session.FromContext(ctx)
		var n int
		if _, err := s.Get("visits", &n); err != nil {
			return 0, err
		}
		n++
		return n, s.Set(ctx, "visits", n)
	}))
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", sessions.Handler(srv))
	_ = http.ListenAndServe // log.Fatal(http.ListenAndServe(":8080", mux))
}
