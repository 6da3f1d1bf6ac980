package redisstore_test

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/swillorg/swill-go/internal/redistest"
	"github.com/swillorg/swill-go/internal/sessiontest"
	"github.com/swillorg/swill-go/session"
	"github.com/swillorg/swill-go/session/redisstore"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func newClient(t *testing.T, url string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(url)
	require.NoError(t, err)
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestContract(t *testing.T) {
	sessiontest.Run(t, redisstore.New(newClient(t, redistest.URL(t)), redisstore.WithPrefix(redistest.Prefix(t))))
}

func TestStoreDown(t *testing.T) {
	srv := redistest.Start(t)
	store := redisstore.New(newClient(t, srv.URL()))
	srv.Stop()
	ctx := context.Background()
	require.Error(t, store.Create(ctx, "x", 1e9))
	_, _, err := store.Load(ctx, "x", 1e9)
	require.Error(t, err)
	err = store.Update(ctx, "x", nil, nil, 1e9)
	require.Error(t, err)
	require.NotErrorIs(t, err, session.ErrNotFound, "an outage is not a missing session")
}
