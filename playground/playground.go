package playground

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"html/template"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/swillorg/swill-go/introspect"
	"github.com/swillorg/swill-go/swill"
)

//go:embed assets/index.html assets/playground.css assets/playground.js
var assets embed.FS

var indexTemplate = template.Must(template.ParseFS(assets, "assets/index.html"))

// DefaultEndpoint is the URL of the swill endpoint the page connects to
// unless told otherwise: relative to the page, the sibling of the
// directory it is mounted on.
const DefaultEndpoint = "../ws"

// An Option configures a [Handler].
type Option interface {
	apply(*config)
}

type config struct {
	endpoint string
	title    string
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithEndpoint sets the URL of the swill endpoint the page connects to:
// relative to the page's URL (the default is [DefaultEndpoint]), absolute
// ("/api/ws"), or a full ws:// or wss:// URL. An http(s) URL is turned
// into ws(s). An empty url is ignored.
func WithEndpoint(url string) Option {
	return optionFunc(func(c *config) {
		if url != "" {
			c.endpoint = url
		}
	})
}

// WithTitle sets the page's title. Default "swill playground". An empty
// title is ignored.
func WithTitle(title string) Option {
	return optionFunc(func(c *config) {
		if title != "" {
			c.title = title
		}
	})
}

// Handler returns the handler of the docs and playground page of srv.
// Mount it on a subtree ("/docs/"): it serves the page for any path that
// ends in "/", and the files the page loads (playground.js,
// playground.css, describe.json) by their name in any directory, and
// answers 404 for anything else.
//
// describe.json is the description of srv's handlers and channels as
// swill.describe returns it ([swill.Server.Describe]), read when it is
// requested, so handlers registered (and extensions mounted) after the
// Handler was made appear too. It is served even when srv was made
// [swill.WithoutIntrospection].
func Handler(srv *swill.Server, opts ...Option) http.Handler {
	cfg := config{endpoint: DefaultEndpoint, title: "swill playground"}
	for _, o := range opts {
		o.apply(&cfg)
	}
	h := &handler{srv: srv}
	var index bytes.Buffer
	if err := indexTemplate.Execute(&index, struct{ Endpoint, Title string }{cfg.endpoint, cfg.title}); err != nil {
		panic("playground: the page template fails: " + err.Error()) // a bug in this package
	}
	h.files = map[string]file{
		"":               newFile("text/html; charset=utf-8", index.Bytes()),
		"index.html":     newFile("text/html; charset=utf-8", index.Bytes()),
		"playground.js":  newFile("text/javascript; charset=utf-8", mustRead("assets/playground.js")),
		"playground.css": newFile("text/css; charset=utf-8", mustRead("assets/playground.css")),
	}
	return h
}

type file struct {
	contentType string
	body        []byte
	etag        string
}

func newFile(contentType string, body []byte) file {
	sum := sha256.Sum256(body)
	return file{contentType: contentType, body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

func mustRead(name string) []byte {
	b, err := assets.ReadFile(name)
	if err != nil {
		panic("playground: missing embedded file " + name) // a bug in this package
	}
	return b
}

type handler struct {
	srv   *swill.Server
	files map[string]file

	mu        sync.Mutex
	doc       []byte               // described as JSON
	described *introspect.Document // the document doc was made from
}

// contentSecurityPolicy lets the page load only its own files and talk
// only to its own origin and to WebSocket endpoints.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// ServeHTTP implements [http.Handler].
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name := ""
	if !strings.HasSuffix(r.URL.Path, "/") {
		name = path.Base(r.URL.Path)
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if name == "describe.json" {
		doc, err := h.describe()
		if err != nil {
			http.Error(w, "playground: the description does not encode as JSON: "+err.Error(), http.StatusInternalServerError)
			return
		}
		h.serve(w, r, newFile("application/json", doc))
		return
	}
	f, ok := h.files[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if f.contentType == "text/html; charset=utf-8" {
		w.Header().Set("Content-Security-Policy", contentSecurityPolicy)
		w.Header().Set("Referrer-Policy", "no-referrer")
	}
	h.serve(w, r, f)
}

// serve writes f; the browser revalidates it each time (its ETag changes
// with its content).
func (h *handler) serve(w http.ResponseWriter, r *http.Request, f file) {
	w.Header().Set("Content-Type", f.contentType)
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("ETag", f.etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}

// describe returns the server's description ([swill.Server.Describe]) as
// JSON, encoded again only when the server made a new one.
func (h *handler) describe() ([]byte, error) {
	doc := h.srv.Describe()
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.doc != nil && doc == h.described {
		return h.doc, nil
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	h.doc, h.described = b, doc
	return b, nil
}
