package redisengine_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/pubsub/redisengine"
)

// TestMain fails the run if any goroutine outlives the tests: every
// subscription connection, reconnect loop and presence refresher must
// have ended.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newClient returns a client of the Redis at url, closed when t ends.
func newClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// newNamedClient is newClient whose connections carry name (CLIENT
// SETNAME), so that a test can find them in CLIENT LIST.
func newNamedClient(t *testing.T, url, name string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	opt.ClientName = name
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

// recorder is a DeliverFunc that keeps what it is handed.
type recorder struct {
	mu   sync.Mutex
	got  []delivery
	more chan struct{}
}

type delivery struct {
	key     string
	pattern bool
	pub     pubsub.Publication
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{}, 1)} }

func (r *recorder) deliver(key string, pattern bool, pub pubsub.Publication) {
	pub.Data = append([]byte(nil), pub.Data...) // the engine may reuse it
	r.mu.Lock()
	r.got = append(r.got, delivery{key, pattern, pub})
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// wait returns the first n deliveries, failing t if they take over 10s.
func (r *recorder) wait(t *testing.T, n int) []delivery {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		if len(r.got) >= n {
			out := append([]delivery(nil), r.got[:n]...)
			r.mu.Unlock()
			return out
		}
		have := len(r.got)
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("%d deliveries after 10s, want %d", have, n)
		}
	}
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// startEngine starts an engine on client with the given prefix, as a hub
// would, and closes it when t ends.
func startEngine(t *testing.T, client redis.UniversalClient, prefix string, opts ...redisengine.Option) (*redisengine.Engine, *recorder) {
	t.Helper()
	e := redisengine.New(client, append([]redisengine.Option{redisengine.WithPrefix(prefix)}, opts...)...)
	r := newRecorder()
	require.NoError(t, e.Start(context.Background(), r.deliver))
	t.Cleanup(func() { e.Close() })
	return e, r
}

// eventually fails t unless cond holds within 20s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 20s: %s", what)
		}
		time.Sleep(10 * time.Millisecond) // the poll's interval
	}
}
