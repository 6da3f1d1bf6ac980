package playground_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/playground"
	"github.com/swillorg/swill-go/swill"
)

// Serve the page at /docs/ next to the endpoint at /ws; the page connects
// to ../ws. Its description is at /docs/describe.json.
func ExampleHandler() {
	srv := swill.NewServer(swill.WithVersion("1.0.0"))
	_ = srv.Register(swill.Unary("add", func(ctx context.Context, in [2]int) (int, error) {
		return in[0] + in[1], nil
	}, swill.WithDoc("Adds two integers.")))

	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.Handle("/docs/", playground.Handler(srv, playground.WithTitle("My service")))

	hs := httptest.NewServer(mux)
	defer hs.Close()
	res, err := http.Get(hs.URL + "/docs/describe.json")
	if err != nil {
		panic(err)
	}
	defer res.Body.Close()
	var doc introspect.Document
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		panic(err)
	}
	for _, m := range doc.Handlers {
		fmt.Println(m.Name, m.Kind, m.Doc)
	}
	// Output:
	// add unary Adds two integers.
}
