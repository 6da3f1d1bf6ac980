package session

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/swillorg/swill-go/codec"
)

// Session is one client's session as one connection sees it: its id and
// its values, loaded when the connection opened. Set, Delete and Destroy
// write through to the store at once, so the client's next connection,
// on this node or another sharing the store, sees them; Get reads what
// this connection loaded and wrote, and [Session.Reload] reads what other
// connections wrote since. A Session is safe for concurrent use.
type Session struct {
	id string
	m  *Manager

	mu     sync.Mutex
	values map[string][]byte
	isNew  bool
}

type ctxKey struct{}

// FromContext returns the session of the connection ctx belongs to (the
// context of a call, of a hook or of the connection), or nil when the
// server is not wrapped by a [Manager].
func FromContext(ctx context.Context) *Session {
	s, _ := ctx.Value(ctxKey{}).(*Session)
	return s
}

// NewContext returns a copy of ctx that carries s, as the [Manager]'s
// middleware does for the upgrade request.
func NewContext(ctx context.Context, s *Session) context.Context {
	return context.WithValue(ctx, ctxKey{}, s)
}

// ID returns the session's id. It is a bearer credential: do not log it.
func (s *Session) ID() string { return s.id }

// IsNew reports whether the session was made for this connection, rather
// than presented by the client.
func (s *Session) IsNew() bool { return s.isNew }

// Get decodes the value under key into dst, as codec.Unmarshal does, and
// reports whether there was one.
func (s *Session) Get(key string, dst any) (bool, error) {
	s.mu.Lock()
	b, ok := s.values[key]
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if err := codec.Unmarshal(b, dst); err != nil {
		return true, fmt.Errorf("session: decoding %q: %w", key, err)
	}
	return true, nil
}

// Keys returns the keys of the session's values, sorted.
func (s *Session) Keys() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.values))
	for k := range s.values {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Set stores v, encoded as MsgPack, under key, in the store and in this
// connection's view of the session, and keeps the session for its TTL
// more. key must not be empty. It returns [ErrNotFound] when the session
// expired or was destroyed meanwhile.
func (s *Session) Set(ctx context.Context, key string, v any) error {
	if key == "" {
		return errors.New("session: empty key")
	}
	b, err := codec.Marshal(v)
	if err != nil {
		return fmt.Errorf("session: encoding %q: %w", key, err)
	}
	if err := s.m.store.Update(ctx, s.id, map[string][]byte{key: b}, nil, s.m.ttl); err != nil {
		return err
	}
	s.mu.Lock()
	s.values[key] = b
	s.mu.Unlock()
	return nil
}

// Delete removes the value under key, in the store and in this view.
func (s *Session) Delete(ctx context.Context, key string) error {
	if err := s.m.store.Update(ctx, s.id, nil, []string{key}, s.m.ttl); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.values, key)
	s.mu.Unlock()
	return nil
}

// Reload reads the session's values from the store again, with what the
// client's other connections wrote, and keeps it for its TTL more. It
// returns [ErrNotFound] when the session expired or was destroyed.
func (s *Session) Reload(ctx context.Context) error {
	vals, ok, err := s.m.store.Load(ctx, s.id, s.m.ttl)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	s.mu.Lock()
	s.values = vals
	s.mu.Unlock()
	return nil
}

// Destroy deletes the session from the store, at logout for one: the id
// is worthless from then on, and the client gets a new session when it
// connects again.
func (s *Session) Destroy(ctx context.Context) error {
	if err := s.m.store.Delete(ctx, s.id); err != nil {
		return err
	}
	s.mu.Lock()
	s.values = map[string][]byte{}
	s.mu.Unlock()
	return nil
}

// idBytes is the entropy of an id: 256 bits.
const idBytes = 32

// idLen is the length of an id in unpadded base64url.
var idLen = base64.RawURLEncoding.EncodedLen(idBytes)

// newID returns a fresh id from crypto/rand.
func newID() string {
	var b [idBytes]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand's documentation)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validID reports whether id has the form of an id this package issues.
func validID(id string) bool {
	if len(id) != idLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
