package session

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// Manager issues and loads sessions; its [Manager.Handler] is the HTTP
// middleware that gives every connection of a swill server its session.
type Manager struct {
	store  Store
	ttl    time.Duration
	cookie string
	header string
	secure bool
	log    *slog.Logger
}

// Option configures a [Manager].
type Option func(*Manager)

// WithStore sets the store; the default is [NewMemoryStore].
func WithStore(s Store) Option { return func(m *Manager) { m.store = s } }

// WithTTL sets how long a session lives after the client last connected
// with it or a handler last changed it; default 24 hours.
func WithTTL(d time.Duration) Option { return func(m *Manager) { m.ttl = d } }

// WithCookie sets the name of the session cookie; default "swill_session".
func WithCookie(name string) Option { return func(m *Manager) { m.cookie = name } }

// WithHeader sets the name of the HTTP header that carries the session
// id for clients other than browsers; default "Swill-Session".
func WithHeader(name string) Option { return func(m *Manager) { m.header = name } }

// WithSecureCookie marks the cookie Secure even on plain-HTTP requests:
// for a server behind a proxy that terminates TLS. Without it the cookie
// is Secure when the request came over TLS.
func WithSecureCookie() Option { return func(m *Manager) { m.secure = true } }

// WithLogger sets the logger of store failures; default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(m *Manager) { m.log = l } }

// New returns a manager.
func New(opts ...Option) *Manager {
	m := &Manager{
		store:  nil,
		ttl:    24 * time.Hour,
		cookie: "swill_session",
		header: "Swill-Session",
		log:    slog.Default(),
	}
	for _, o := range opts {
		o(m)
	}
	if m.store == nil {
		m.store = NewMemoryStore()
	}
	return m
}

// Store returns the manager's store.
func (m *Manager) Store() Store { return m.store }

// Handler wraps next, the swill server or a mux serving it: on a
// WebSocket upgrade request it finds or makes the client's session, puts
// it in the request's context (where [FromContext] finds it from every
// call of the connection), and sets its id on the upgrade response (see
// the package doc). Other requests pass through untouched. When the
// store fails, the upgrade is answered 503 with Retry-After, and the
// client tries again.
func (m *Manager) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isUpgrade(r) {
			next.ServeHTTP(w, r)
			return
		}
		s, err := m.open(r.Context(), r)
		if err != nil {
			m.log.Warn("session: the store failed", "err", err)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "session store unavailable", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set(m.header, s.id)
		if _, fromHeader := r.Header[http.CanonicalHeaderKey(m.header)]; !fromHeader {
			http.SetCookie(w, &http.Cookie{
				Name:     m.cookie,
				Value:    s.id,
				Path:     "/",
				MaxAge:   int(m.ttl / time.Second),
				HttpOnly: true,
				Secure:   m.secure || r.TLS != nil,
				SameSite: http.SameSiteLaxMode,
			})
		}
		next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), s)))
	})
}

// open loads the session r presents, or makes a new one.
func (m *Manager) open(ctx context.Context, r *http.Request) (*Session, error) {
	id := strings.TrimSpace(r.Header.Get(m.header))
	if id == "" {
		if c, err := r.Cookie(m.cookie); err == nil {
			id = c.Value
		}
	}
	if validID(id) {
		vals, ok, err := m.store.Load(ctx, id, m.ttl)
		if err != nil {
			return nil, err
		}
		if ok {
			return &Session{id: id, m: m, values: vals}, nil
		}
	}
	return m.Create(ctx)
}

// Create makes a new, empty session in the store: for a client that gets
// its id some other way than the middleware's (an HTTP login endpoint
// that sets the cookie itself, say).
func (m *Manager) Create(ctx context.Context) (*Session, error) {
	id := newID()
	if err := m.store.Create(ctx, id, m.ttl); err != nil {
		return nil, err
	}
	return &Session{id: id, m: m, values: map[string][]byte{}, isNew: true}, nil
}

// Load returns session id from the store, or [ErrNotFound].
func (m *Manager) Load(ctx context.Context, id string) (*Session, error) {
	if !validID(id) {
		return nil, ErrNotFound
	}
	vals, ok, err := m.store.Load(ctx, id, m.ttl)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrNotFound
	}
	return &Session{id: id, m: m, values: vals}, nil
}

func isUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") && headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
