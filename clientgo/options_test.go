package clientgo_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/clientgo"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/swill"
)

func TestTLSAndHeaders(t *testing.T) {
	srv := swill.NewServer()
	require.NoError(t, demosvc.Register(srv))
	headers := make(chan http.Header, 4)
	hs := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers <- r.Header.Clone()
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		srv.Shutdown(ctx)
	})
	url := "wss" + strings.TrimPrefix(hs.URL, "https") + "/ws"

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	_, err := clientgo.Dial(ctx, url)
	require.Error(t, err, "the test certificate is not trusted by default")

	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	c := dial(t, url,
		clientgo.WithTLSConfig(&tls.Config{RootCAs: pool}),
		clientgo.WithHTTPHeader(http.Header{"Authorization": {"Bearer t0ken"}}),
		clientgo.WithHTTPHeader(http.Header{"X-Trace": {"1"}}),
		clientgo.WithDialTimeout(time.Second))
	h := <-headers
	assert.Equal(t, "Bearer t0ken", h.Get("Authorization"))
	assert.Equal(t, "1", h.Get("X-Trace"))
	assert.Equal(t, "swill.v1,swill/1", strings.ReplaceAll(h.Get("Sec-WebSocket-Protocol"), " ", ""), "swill.v1 preferred, swill/1 as a fallback")
	sum, err := clientgo.Call[[2]int, int](context.Background(), c, "add", [2]int{1, 2})
	require.NoError(t, err)
	assert.Equal(t, 3, sum)
}

func TestReadLimit(t *testing.T) {
	srv, _ := startServer(t)
	c := dial(t, srv.URL, clientgo.WithReadLimit(64), clientgo.WithoutReconnect())
	s, err := clientgo.CallBidiStream[string, string](context.Background(), c, "echo")
	require.NoError(t, err)
	require.NoError(t, s.Send(strings.Repeat("x", 200)))
	_, err = s.Recv()
	assert.ErrorIs(t, err, clientgo.ErrConnectionLost, "a frame over the limit ends the connection")
}
