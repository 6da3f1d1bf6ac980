package playground_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/playground"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/swill"
)

// serve mounts the demo's endpoint at prefix+"ws" and its page at
// prefix+"docs/" on a loopback server.
func serve(t *testing.T, prefix string, opts ...playground.Option) (*httptest.Server, *swill.Server) {
	t.Helper()
	srv := swill.NewServer(swill.WithVersion("demo"))
	require.NoError(t, demosvc.Register(srv))
	mux := http.NewServeMux()
	mux.Handle(prefix+"ws", srv)
	mux.Handle(prefix+"docs/", playground.Handler(srv, opts...))
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx))
	})
	return hs, srv
}

func get(t *testing.T, url string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, string(b)
}

func TestPage(t *testing.T) {
	t.Parallel()
	hs, _ := serve(t, "/", playground.WithTitle("Demo <docs>"))
	res, body := get(t, hs.URL+"/docs/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, res.Header.Get("Content-Security-Policy"), "script-src 'self'")
	assert.Contains(t, body, `<meta name="swill-endpoint" content="../ws">`)
	assert.Contains(t, body, `<title>Demo &lt;docs&gt;</title>`)
	// Everything the page loads is relative to it.
	assert.Contains(t, body, `<script type="module" src="playground.js"></script>`)
	assert.Contains(t, body, `<link rel="stylesheet" href="playground.css">`)
	assert.NotContains(t, body, `src="/`)
	assert.NotContains(t, body, `href="/`)

	res, js := get(t, hs.URL+"/docs/playground.js")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/javascript; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Contains(t, js, `"swill.v1"`, "the bundle holds the TypeScript client")
	assert.NotContains(t, js, "http://", "the script loads nothing from elsewhere")

	res, _ = get(t, hs.URL+"/docs/playground.css")
	assert.Equal(t, "text/css; charset=utf-8", res.Header.Get("Content-Type"))

	// ServeMux sends /docs to /docs/.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := noRedirect.Get(hs.URL + "/docs")
	require.NoError(t, err)
	r.Body.Close()
	assert.Contains(t, []int{http.StatusMovedPermanently, http.StatusTemporaryRedirect}, r.StatusCode)
	assert.Equal(t, "/docs/", r.Header.Get("Location"))

	res, _ = get(t, hs.URL+"/docs/nope.txt")
	assert.Equal(t, http.StatusNotFound, res.StatusCode)

	post, err := http.Post(hs.URL+"/docs/", "text/plain", strings.NewReader("x"))
	require.NoError(t, err)
	post.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, post.StatusCode)
}

func TestRevalidation(t *testing.T) {
	t.Parallel()
	hs, _ := serve(t, "/")
	res, _ := get(t, hs.URL+"/docs/playground.js")
	etag := res.Header.Get("ETag")
	require.NotEmpty(t, etag)
	assert.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
	res, body := get(t, hs.URL+"/docs/playground.js", "If-None-Match", etag)
	assert.Equal(t, http.StatusNotModified, res.StatusCode)
	assert.Empty(t, body)
}

// describe.json is what swill.describe returns.
func TestDescribeJSON(t *testing.T) {
	t.Parallel()
	hs, _ := serve(t, "/")
	res, body := get(t, hs.URL+"/docs/describe.json")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "application/json", res.Header.Get("Content-Type"))
	var served introspect.Document
	require.NoError(t, json.Unmarshal([]byte(body), &served))

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := clientgo.Dial(ctx, "ws"+strings.TrimPrefix(hs.URL, "http")+"/ws")
	require.NoError(t, err)
	defer c.Close()
	described, err := clientgo.Call[any, introspect.Document](ctx, c, swill.DescribeRPC, nil)
	require.NoError(t, err)
	assert.Equal(t, described, served)
	assert.Len(t, served.Handlers, 11)
	assert.Equal(t, "demo", served.Version)
}

func TestHandlersRegisteredLater(t *testing.T) {
	t.Parallel()
	hs, srv := serve(t, "/")
	_, body := get(t, hs.URL+"/docs/describe.json")
	assert.NotContains(t, body, `"late"`)
	require.NoError(t, srv.Register(swill.Unary("late", func(ctx context.Context, n int) (int, error) { return n, nil })))
	_, body = get(t, hs.URL+"/docs/describe.json")
	assert.Contains(t, body, `"name":"late"`)
}

// describe.json lists the channels of a hub mounted later, as
// swill.describe does.
func TestDescribeJSONChannels(t *testing.T) {
	t.Parallel()
	hs, srv := serve(t, "/")
	hub, err := pubsub.New(pubsub.WithChannels(pubsub.Channel[chatLine]("chat.*", pubsub.WithHistory(5, 0))))
	require.NoError(t, err)
	defer hub.Close()
	require.NoError(t, srv.Mount(hub))
	_, body := get(t, hs.URL+"/docs/describe.json")
	var served introspect.Document
	require.NoError(t, json.Unmarshal([]byte(body), &served))
	require.Len(t, served.Channels, 1)
	assert.Equal(t, "chat.*", served.Channels[0].Pattern)
	assert.Equal(t, "#/$defs/chatLine", served.Channels[0].Message.Ref)
	assert.NotNil(t, served.Defs.Get("chatLine"))
}

type chatLine struct {
	Text string `msgpack:"text"`
}

// The page works under a prefix, mounted as it is or behind a handler
// that strips the prefix (as a proxy would).
func TestPrefix(t *testing.T) {
	t.Parallel()
	hs, _ := serve(t, "/api/v1/")
	res, body := get(t, hs.URL+"/api/v1/docs/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `content="../ws"`)
	res, _ = get(t, hs.URL+"/api/v1/docs/describe.json")
	assert.Equal(t, http.StatusOK, res.StatusCode)

	srv := swill.NewServer()
	stripped := httptest.NewServer(http.StripPrefix("/outer", playground.Handler(srv, playground.WithEndpoint("wss://example.com/ws"))))
	defer stripped.Close()
	res, body = get(t, stripped.URL+"/outer/")
	require.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, body, `content="wss://example.com/ws"`)
	res, _ = get(t, stripped.URL+"/outer/playground.js")
	assert.Equal(t, http.StatusOK, res.StatusCode)
}
