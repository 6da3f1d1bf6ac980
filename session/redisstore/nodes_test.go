package redisstore_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/internal/redistest"
	"github.com/swillorg/swill-go/session"
	"github.com/swillorg/swill-go/session/redisstore"
	"github.com/swillorg/swill-go/swill"
)

// startNode serves a swill server whose "count" call increments a
// counter in the session, behind a session manager on its own Redis
// client, and returns its ws:// URL.
func startNode(t *testing.T, redisURL, prefix string) string {
	t.Helper()
	m := session.New(session.WithStore(redisstore.New(newClient(t, redisURL), redisstore.WithPrefix(prefix))))
	srv := swill.NewServer()
	require.NoError(t, srv.Register(
		swill.Unary("count", func(ctx context.Context, _ codec.None) (int, error) {
			s := session.FromContext(ctx)
			var n int
			if _, err := s.Get("n", &n); err != nil {
				return 0, err
			}
			n++
			return n, s.Set(ctx, "n", n)
		}),
		swill.Unary("id", func(ctx context.Context, _ codec.None) (string, error) {
			return session.FromContext(ctx).ID(), nil
		}),
	))
	hs := httptest.NewServer(m.Handler(srv))
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

func call[T any](t *testing.T, url string, jar http.CookieJar, name string) T {
	t.Helper()
	c, err := clientgo.Dial(context.Background(), url, clientgo.WithoutReconnect(),
		clientgo.WithHTTPClient(&http.Client{Jar: jar}))
	require.NoError(t, err)
	defer c.Close()
	v, err := clientgo.Call[codec.None, T](context.Background(), c, name, codec.None{})
	require.NoError(t, err)
	return v
}

// TestSessionMovesNodes connects a client (with a cookie jar, as a
// browser) to one node, then to another: the session follows it.
func TestSessionMovesNodes(t *testing.T) {
	url, prefix := redistest.URL(t), redistest.Prefix(t)
	a, b := startNode(t, url, prefix), startNode(t, url, prefix)
	jar, _ := cookiejar.New(nil)
	id := call[string](t, a, jar, "id")
	assert.Equal(t, 1, call[int](t, a, jar, "count"))
	assert.Equal(t, 2, call[int](t, b, jar, "count"), "on the other node")
	assert.Equal(t, id, call[string](t, b, jar, "id"))
	assert.Equal(t, 3, call[int](t, a, jar, "count"), "and back")
}
