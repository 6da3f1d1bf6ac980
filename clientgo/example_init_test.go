package clientgo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/swill"
	"github.com/swillorg/swill-go/swill/validate"
)

// startDemo serves the demo service on a loopback port for the examples
// and returns its URL and a function that stops it.
func startDemo() (url string, stop func()) {
	srv := swill.NewServer(swill.WithValidator(validate.New()))
	if err := demosvc.Register(srv); err != nil {
		panic(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs := httptest.NewServer(mux)
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws", func() {
		hs.Close()
		srv.Shutdown(context.Background())
	}
}
