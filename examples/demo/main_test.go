package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/swill"
)

// A browser opening the demo's root lands on the docs page.
func TestRootRedirectsToDocs(t *testing.T) {
	srv := swill.NewServer(swill.WithVersion("demo"))
	require.NoError(t, demosvc.Register(srv))
	hs := httptest.NewServer(routes(srv))
	defer func() {
		hs.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		assert.NoError(t, srv.Shutdown(ctx))
	}()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	res, err := noFollow.Get(hs.URL + "/")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusFound, res.StatusCode)
	assert.Equal(t, "/docs/", res.Header.Get("Location"))

	res, err = http.Get(hs.URL + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "/docs/", res.Request.URL.Path)
	assert.True(t, strings.Contains(string(body), "swill demo"), "the docs page")

	// Only the root: other paths are not found.
	res, err = noFollow.Get(hs.URL + "/nope")
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusNotFound, res.StatusCode)
}
