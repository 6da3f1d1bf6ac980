package sessiontest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/swillorg/swill-go/session"
)

func id() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Run checks store against the [session.Store] contract. Its sessions
// have ids of their own, so store may be shared.
func Run(t *testing.T, store session.Store) {
	ctx := context.Background()
	t.Run("CreateLoadUpdate", func(t *testing.T) {
		s := id()
		_, ok, err := store.Load(ctx, s, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok, "unknown before Create")

		require.NoError(t, store.Create(ctx, s, time.Minute))
		vals, ok, err := store.Load(ctx, s, time.Minute)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Empty(t, vals, "a new session has no values")

		require.NoError(t, store.Update(ctx, s, map[string][]byte{"a": {1}, "b": {2, 0}}, nil, time.Minute))
		require.NoError(t, store.Update(ctx, s, map[string][]byte{"c": {}}, []string{"b", "missing"}, time.Minute))
		vals, ok, err = store.Load(ctx, s, time.Minute)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, map[string][]byte{"a": {1}, "c": {}}, normalize(vals))

		// Updates from two writers keep each other's keys.
		require.NoError(t, store.Update(ctx, s, map[string][]byte{"x": {9}}, nil, time.Minute))
		require.NoError(t, store.Update(ctx, s, map[string][]byte{"y": {8}}, nil, time.Minute))
		vals, _, err = store.Load(ctx, s, time.Minute)
		require.NoError(t, err)
		assert.Len(t, vals, 4)
	})
	t.Run("Delete", func(t *testing.T) {
		s := id()
		require.NoError(t, store.Create(ctx, s, time.Minute))
		require.NoError(t, store.Delete(ctx, s))
		require.NoError(t, store.Delete(ctx, s), "twice")
		_, ok, err := store.Load(ctx, s, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok)
		err = store.Update(ctx, s, map[string][]byte{"a": {1}}, nil, time.Minute)
		assert.ErrorIs(t, err, session.ErrNotFound, "Update does not bring it back")
		_, ok, err = store.Load(ctx, s, time.Minute)
		require.NoError(t, err)
		assert.False(t, ok)
	})
	t.Run("TTL", func(t *testing.T) {
		s, kept := id(), id()
		ttl := 200 * time.Millisecond
		require.NoError(t, store.Create(ctx, s, ttl))
		require.NoError(t, store.Create(ctx, kept, ttl))
		// Loading and updating keep a session alive past its first TTL.
		for range 4 {
			time.Sleep(ttl / 4)
			_, ok, err := store.Load(ctx, kept, ttl)
			require.NoError(t, err)
			require.True(t, ok, "kept alive by Load")
			require.NoError(t, store.Update(ctx, kept, map[string][]byte{"n": {1}}, nil, ttl))
		}
		time.Sleep(2 * ttl)
		_, ok, err := store.Load(ctx, s, ttl)
		require.NoError(t, err)
		assert.False(t, ok, "expired")
		assert.ErrorIs(t, store.Update(ctx, s, map[string][]byte{"a": {1}}, nil, ttl), session.ErrNotFound)
	})
}

// normalize makes nil and empty values compare equal.
func normalize(m map[string][]byte) map[string][]byte {
	for k, v := range m {
		if len(v) == 0 {
			m[k] = []byte{}
		}
	}
	return m
}
