package session

import (
	"context"
	"errors"
	"sync"
	"time"
)

// ErrNotFound is returned by a [Store]'s Update when the session no longer
// exists (it expired or was deleted), and by a [Session]'s methods then.
var ErrNotFound = errors.New("session: no such session (expired or deleted)")

// Store keeps sessions: each a set of encoded values under an id, until
// its TTL passes without the session being loaded or updated. Its methods
// are safe for concurrent use.
type Store interface {
	// Create records a new session, with no values, for ttl.
	Create(ctx context.Context, id string, ttl time.Duration) error
	// Load returns the values of session id and keeps it for ttl more;
	// ok is false when the store has no such session.
	Load(ctx context.Context, id string, ttl time.Duration) (values map[string][]byte, ok bool, err error)
	// Update sets the values in set, removes the keys in del, and keeps
	// the session for ttl more, at once. It returns [ErrNotFound] when the
	// session no longer exists, and creates nothing then.
	Update(ctx context.Context, id string, set map[string][]byte, del []string, ttl time.Duration) error
	// Delete removes session id; deleting a missing session is no error.
	Delete(ctx context.Context, id string) error
}

// MemoryStore is a [Store] in this process's memory, the default: its
// sessions are lost when the process ends and unknown to other processes.
type MemoryStore struct {
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]*memSession
	swept    time.Time
}

type memSession struct {
	values  map[string][]byte
	expires time.Time
}

// NewMemoryStore returns an empty in-memory store.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{now: time.Now, sessions: map[string]*memSession{}}
}

// Create implements [Store]. It also drops the expired sessions, at most
// once a minute.
func (m *MemoryStore) Create(ctx context.Context, id string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.Sub(m.swept) > time.Minute {
		for k, s := range m.sessions {
			if now.After(s.expires) {
				delete(m.sessions, k)
			}
		}
		m.swept = now
	}
	m.sessions[id] = &memSession{values: map[string][]byte{}, expires: now.Add(ttl)}
	return nil
}

// live returns session id unless it is missing or expired; under mu.
func (m *MemoryStore) live(id string) *memSession {
	s := m.sessions[id]
	if s != nil && m.now().After(s.expires) {
		delete(m.sessions, id)
		return nil
	}
	return s
}

// Load implements [Store].
func (m *MemoryStore) Load(ctx context.Context, id string, ttl time.Duration) (map[string][]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.live(id)
	if s == nil {
		return nil, false, nil
	}
	s.expires = m.now().Add(ttl)
	out := make(map[string][]byte, len(s.values))
	for k, v := range s.values {
		out[k] = v // values are never changed in place
	}
	return out, true, nil
}

// Update implements [Store].
func (m *MemoryStore) Update(ctx context.Context, id string, set map[string][]byte, del []string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.live(id)
	if s == nil {
		return ErrNotFound
	}
	for k, v := range set {
		s.values[k] = append([]byte(nil), v...)
	}
	for _, k := range del {
		delete(s.values, k)
	}
	s.expires = m.now().Add(ttl)
	return nil
}

// Delete implements [Store].
func (m *MemoryStore) Delete(ctx context.Context, id string) error {
	m.mu.Lock()
	delete(m.sessions, id)
	m.mu.Unlock()
	return nil
}

// Len returns the number of sessions kept, expired ones included until
// they are dropped.
func (m *MemoryStore) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

var _ Store = (*MemoryStore)(nil)
