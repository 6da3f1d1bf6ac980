package swill_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/swill"
)

type mwUserKey struct{}

type mwTenantKey struct{}

// TestCallContextValues: a value HTTP middleware put on the upgrade
// request's context, and one a hook stored with Conn.Set, are read with
// ctx.Value by the hooks, the interceptors and the handler of every call
// on the connection; the upgrade request's cancellation (it ends when
// ServeHTTP returns) is not the call's.
func TestCallContextValues(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[string][2]any{}
	note := func(where string, ctx context.Context) {
		mu.Lock()
		defer mu.Unlock()
		seen[where] = [2]any{ctx.Value(mwUserKey{}), ctx.Value(mwTenantKey{})}
	}
	var requestCtx context.Context
	srv := swill.NewServer(
		swill.WithHooks(swill.Hooks{
			AfterAccept: func(ctx context.Context, conn *swill.Conn) error {
				note("AfterAccept", ctx)
				conn.Set(mwTenantKey{}, "acme")
				return nil
			},
			BeforeRequest: func(ctx context.Context, call *swill.Call) error {
				note("BeforeRequest", ctx)
				return nil
			},
			BeforeRequestMessage: func(ctx context.Context, call *swill.Call, msg any) error {
				note("BeforeRequestMessage", ctx)
				return nil
			},
		}),
		swill.WithInterceptors(swill.InterceptorFunc(func(ctx context.Context, call *swill.Call, next func(context.Context) error) error {
			note("interceptor", ctx)
			return next(ctx)
		})),
	)
	require.NoError(t, srv.Register(
		swill.Unary("whoami", func(ctx context.Context, _ any) (string, error) {
			note("handler", ctx)
			if err := ctx.Err(); err != nil {
				return "", err
			}
			user, _ := ctx.Value(mwUserKey{}).(string)
			tenant, _ := ctx.Value(mwTenantKey{}).(string)
			return user + "@" + tenant, nil
		}),
		swill.ServerStream("whoami-stream", func(ctx context.Context, _ any, out chan<- string) error {
			note("stream handler", ctx)
			user, _ := ctx.Value(mwUserKey{}).(string)
			out <- user
			return nil
		}),
	))
	// Authentication middleware in front of the swill endpoint.
	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := context.WithValue(r.Context(), mwUserKey{}, r.Header.Get("X-User"))
			mu.Lock()
			requestCtx = ctx
			mu.Unlock()
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
	hs := httptest.NewServer(auth(srv))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })

	c, err := clientgo.Dial(context.Background(), "ws"+strings.TrimPrefix(hs.URL, "http"),
		clientgo.WithHTTPHeader(http.Header{"X-User": {"ada"}}), clientgo.WithoutReconnect())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })

	got, err := clientgo.Call[any, string](context.Background(), c, "whoami", nil)
	require.NoError(t, err)
	assert.Equal(t, "ada@acme", got)
	s, err := clientgo.CallServerStream[any, string](context.Background(), c, "whoami-stream", nil)
	require.NoError(t, err)
	item, err := s.Recv()
	require.NoError(t, err)
	assert.Equal(t, "ada", item)

	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, [2]any{"ada", nil}, seen["AfterAccept"], "the connection's context sees the request's values")
	for _, where := range []string{"BeforeRequest", "BeforeRequestMessage", "interceptor", "handler", "stream handler"} {
		assert.Equal(t, [2]any{"ada", "acme"}, seen[where], where)
	}
	require.NotNil(t, requestCtx)
	assert.Error(t, requestCtx.Err(), "the upgrade request's context ended with ServeHTTP, the calls' did not")
}

// TestConnSetHidesRequestValue: a value stored with Conn.Set hides the
// upgrade request's value under the same key.
func TestConnSetHidesRequestValue(t *testing.T) {
	t.Parallel()
	srv := swill.NewServer(swill.WithHooks(swill.Hooks{
		AfterAccept: func(ctx context.Context, conn *swill.Conn) error {
			conn.Set(mwUserKey{}, "impersonated")
			return nil
		},
	}))
	require.NoError(t, srv.Register(swill.Unary("whoami", func(ctx context.Context, _ any) (any, error) {
		return ctx.Value(mwUserKey{}), nil
	})))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), mwUserKey{}, "ada")))
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	c, err := clientgo.Dial(context.Background(), "ws"+strings.TrimPrefix(hs.URL, "http"), clientgo.WithoutReconnect())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	got, err := clientgo.Call[any, string](context.Background(), c, "whoami", nil)
	require.NoError(t, err)
	assert.Equal(t, "impersonated", got)
}
