package session_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/codec"
	"github.com/swillorg/swill-go/rpc"
	"github.com/swillorg/swill-go/session"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/transport"
	"github.com/swillorg/swill-go/transport/epoll"
	"github.com/swillorg/swill-go/transport/gobwasws"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newServer is a swill server whose calls read and write the session:
// "count" increments the session's counter and returns it, "id" returns
// the session's id, "hooked" what the AfterAccept hook saw.
func newServer(t *testing.T, opts ...swill.Option) *swill.Server {
	t.Helper()
	srv := swill.NewServer(append([]swill.Option{swill.WithHooks(swill.Hooks{
		AfterAccept: func(ctx context.Context, conn *swill.Conn) error {
			s := session.FromContext(ctx)
			if s == nil {
				return errors.New("no session in the hook")
			}
			var n int
			_, _ = s.Get("accepts", &n)
			return s.Set(ctx, "accepts", n+1)
		},
	})}, opts...)...)
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
		swill.Unary("accepts", func(ctx context.Context, _ codec.None) (int, error) {
			var n int
			_, err := session.FromContext(ctx).Get("accepts", &n)
			return n, err
		}),
		swill.Unary("logout", func(ctx context.Context, _ codec.None) (codec.None, error) {
			return codec.None{}, session.FromContext(ctx).Destroy(ctx)
		}),
	))
	return srv
}

// serve serves srv behind m on a loopback port and returns the ws:// URL.
func serve(t *testing.T, m *session.Manager, srv *swill.Server) string {
	t.Helper()
	hs := httptest.NewServer(m.Handler(srv))
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http")
}

// jarClient dials url as a browser would: with a cookie jar.
func jarClient(t *testing.T, url string, jar http.CookieJar) *clientgo.Client {
	t.Helper()
	c, err := clientgo.Dial(context.Background(), url, clientgo.WithoutReconnect(),
		clientgo.WithHTTPClient(&http.Client{Jar: jar}))
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func call[T any](t *testing.T, c *clientgo.Client, name string) T {
	t.Helper()
	v, err := clientgo.Call[codec.None, T](context.Background(), c, name, codec.None{})
	require.NoError(t, err)
	return v
}

// upgrade dials url with header and returns the upgrade response.
func upgrade(t *testing.T, url string, header http.Header, hc *http.Client) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, &websocket.DialOptions{
		HTTPHeader: header, HTTPClient: hc, Subprotocols: []string{rpc.Subprotocol}})
	require.NoError(t, err)
	c.CloseNow()
	return resp
}

func TestCookieOnTheUpgradeResponse(t *testing.T) {
	for _, tc := range []struct {
		name string
		a    transport.Acceptor
	}{
		{"websocket", transport.WebSocket{}},
		{"gobwas", gobwasws.Transport{}},
		{"epoll", &epoll.Acceptor{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := session.New(session.WithTTL(time.Hour))
			url := serve(t, m, newServer(t, swill.WithTransport(tc.a)))
			resp := upgrade(t, url, nil, nil)
			cookies := resp.Cookies()
			require.Len(t, cookies, 1, "Set-Cookie: %v", resp.Header.Values("Set-Cookie"))
			c := cookies[0]
			assert.Equal(t, "swill_session", c.Name)
			assert.Len(t, c.Value, 43, "32 bytes in base64url")
			assert.True(t, c.HttpOnly)
			assert.False(t, c.Secure, "plain HTTP")
			assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
			assert.Equal(t, "/", c.Path)
			assert.Equal(t, 3600, c.MaxAge)
			assert.Equal(t, c.Value, resp.Header.Get("Swill-Session"))
		})
	}
}

func TestSessionSurvivesReconnect(t *testing.T) {
	m := session.New()
	url := serve(t, m, newServer(t))
	jar, _ := cookiejar.New(nil)
	c := jarClient(t, url, jar)
	id := call[string](t, c, "id")
	assert.Equal(t, 1, call[int](t, c, "count"))
	assert.Equal(t, 2, call[int](t, c, "count"))
	c.Close()

	c = jarClient(t, url, jar)
	assert.Equal(t, id, call[string](t, c, "id"), "the same session")
	assert.Equal(t, 3, call[int](t, c, "count"))
	assert.Equal(t, 2, call[int](t, c, "accepts"), "the hook saw and wrote the session on each connection")

	// Another client gets another session.
	other, _ := cookiejar.New(nil)
	c2 := jarClient(t, url, other)
	assert.NotEqual(t, id, call[string](t, c2, "id"))
	assert.Equal(t, 1, call[int](t, c2, "count"))

	// Logging out destroys the session: the next connection gets a new one.
	call[codec.None](t, c, "logout")
	c.Close()
	c = jarClient(t, url, jar)
	assert.NotEqual(t, id, call[string](t, c, "id"))
	assert.Equal(t, 1, call[int](t, c, "count"))
}

func TestHeaderForOtherClients(t *testing.T) {
	m := session.New()
	url := serve(t, m, newServer(t))
	resp := upgrade(t, url, http.Header{"Swill-Session": {""}}, nil)
	id := resp.Header.Get("Swill-Session")
	require.Len(t, id, 43)
	assert.Empty(t, resp.Cookies(), "no cookie for a client that uses the header")

	c, err := clientgo.Dial(context.Background(), url, clientgo.WithoutReconnect(),
		clientgo.WithHTTPHeader(http.Header{"Swill-Session": {id}}))
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, id, call[string](t, c, "id"), "the id presented is taken")

	// An id the store does not know, or not of the form issued, is never
	// taken: the client gets a new one.
	for _, bad := range []string{strings.Repeat("A", 43), "short", strings.Repeat("!", 43)} {
		resp := upgrade(t, url, http.Header{"Swill-Session": {bad}}, nil)
		got := resp.Header.Get("Swill-Session")
		assert.Len(t, got, 43)
		assert.NotEqual(t, bad, got)
		assert.NotEqual(t, id, got)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	m := session.New()
	srv := newServer(t)
	hs := httptest.NewTLSServer(m.Handler(srv))
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	resp := upgrade(t, "wss"+strings.TrimPrefix(hs.URL, "https"), nil, hs.Client())
	require.Len(t, resp.Cookies(), 1)
	assert.True(t, resp.Cookies()[0].Secure)

	// Behind a proxy that terminates TLS, WithSecureCookie marks it too.
	m2 := session.New(session.WithSecureCookie())
	resp = upgrade(t, serve(t, m2, newServer(t)), nil, nil)
	assert.True(t, resp.Cookies()[0].Secure)
}

func TestTTL(t *testing.T) {
	var elapsed atomic.Int64 // on the store's clock
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	store := session.NewMemoryStoreWithClock(func() time.Time { return base.Add(time.Duration(elapsed.Load())) })
	const ttl = time.Hour // the cookie lives as long: the jar keeps it
	m := session.New(session.WithStore(store), session.WithTTL(ttl))
	url := serve(t, m, newServer(t))
	jar, _ := cookiejar.New(nil)
	c := jarClient(t, url, jar)
	id := call[string](t, c, "id")
	c.Close()
	c = jarClient(t, url, jar)
	assert.Equal(t, id, call[string](t, c, "id"), "within the TTL: the same session")
	c.Close()
	elapsed.Add(int64(ttl + time.Second)) // past the TTL
	c = jarClient(t, url, jar)
	assert.NotEqual(t, id, call[string](t, c, "id"), "expired: a new session")
}

// failingStore is a store that cannot be reached.
type failingStore struct{ session.Store }

func (failingStore) Create(context.Context, string, time.Duration) error {
	return errors.New("store down")
}

func (failingStore) Load(context.Context, string, time.Duration) (map[string][]byte, bool, error) {
	return nil, false, errors.New("store down")
}

func TestStoreDownRefusesUpgrade(t *testing.T) {
	m := session.New(session.WithStore(failingStore{}))
	url := serve(t, m, newServer(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, resp, err := websocket.Dial(ctx, url, nil)
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
}

func TestPlainRequestsPassThrough(t *testing.T) {
	m := session.New()
	hs := httptest.NewServer(m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if session.FromContext(r.Context()) != nil {
			http.Error(w, "session on a plain request", 500)
		}
	})))
	defer hs.Close()
	resp, err := hs.Client().Get(hs.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Empty(t, resp.Cookies())
	assert.Empty(t, resp.Header.Get("Swill-Session"), "the id only on upgrade responses, which scripts cannot read")
}
