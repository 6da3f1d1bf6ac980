package pubsub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/swillorg/swill-go/rpc"
)

// MemoryEngine is the [Engine] of a single process: publications go to
// this process's subscribers only, and history and presence live in its
// memory. It is the default engine of a [Hub].
type MemoryEngine struct {
	now func() time.Time

	mu       sync.Mutex
	deliver  DeliverFunc
	closed   bool
	keys     map[string]bool
	patterns []string
	channels map[string]*memChannel // the channels with history
	presence map[string]map[string]presenceEntry
	stripes  [64]sync.Mutex // order the deliveries of channels without history
}

// stripe picks one of the engine's stripes for a channel name (FNV-1a).
func stripe(name string) int {
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return int(h % 64)
}

type memChannel struct {
	mu      sync.Mutex // held while delivering, so deliveries keep offset order
	offset  uint64
	epoch   string
	ring    []Publication // the kept publications; ring[start] is the oldest
	start   int
	lastPub time.Time
}

type presenceEntry struct {
	info    []byte
	expires time.Time
}

// NewMemoryEngine returns an engine for a single process.
func NewMemoryEngine() *MemoryEngine {
	return &MemoryEngine{
		now:      time.Now,
		keys:     map[string]bool{},
		channels: map[string]*memChannel{},
		presence: map[string]map[string]presenceEntry{},
	}
}

// Start implements [Engine].
func (e *MemoryEngine) Start(ctx context.Context, deliver DeliverFunc) error {
	e.mu.Lock()
	e.deliver = deliver
	e.mu.Unlock()
	return nil
}

// Subscribe implements [Engine].
func (e *MemoryEngine) Subscribe(ctx context.Context, key string, pattern bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrEngineClosed
	}
	if pattern {
		for _, p := range e.patterns {
			if p == key {
				return nil
			}
		}
		e.patterns = append(e.patterns, key)
		return nil
	}
	e.keys[key] = true
	return nil
}

// Unsubscribe implements [Engine].
func (e *MemoryEngine) Unsubscribe(ctx context.Context, key string, pattern bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !pattern {
		delete(e.keys, key)
		return nil
	}
	for i, p := range e.patterns {
		if p == key {
			e.patterns = append(e.patterns[:i], e.patterns[i+1:]...)
			break
		}
	}
	return nil
}

// Publish implements [Engine]: it delivers pub before it returns.
func (e *MemoryEngine) Publish(ctx context.Context, pub Publication, opts PublishOptions) (rpc.Position, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return rpc.Position{}, ErrEngineClosed
	}
	keep := opts.HistorySize > 0 && pub.Join == nil && pub.Leave == nil
	ch := e.channels[pub.Channel]
	if ch == nil && keep {
		ch = &memChannel{}
		e.channels[pub.Channel] = ch
	}
	deliver := e.deliver
	exact := e.keys[pub.Channel]
	var matched []string
	for _, p := range e.patterns {
		if Match(p, pub.Channel) {
			matched = append(matched, p)
		}
	}
	// A channel without history keeps no state, so that a process
	// publishing to many short-lived channels (user.<id>) does not grow;
	// one of a few locks chosen by its name keeps its deliveries in
	// order.
	mu := &e.stripes[stripe(pub.Channel)]
	if ch != nil {
		mu = &ch.mu
	}
	mu.Lock()
	e.mu.Unlock()
	defer mu.Unlock()

	var pos rpc.Position
	if keep {
		now := e.now()
		ch.expire(now, opts.HistoryTTL)
		if ch.epoch == "" {
			ch.epoch = newEpoch()
		}
		ch.offset++
		pub.Offset, pub.Epoch = ch.offset, ch.epoch
		ch.keep(pub, opts.HistorySize)
		ch.lastPub = now
		pos = rpc.Position{Offset: pub.Offset, Epoch: pub.Epoch}
	}
	if deliver != nil {
		if exact {
			deliver(pub.Channel, false, pub)
		}
		for _, p := range matched {
			deliver(p, true, pub)
		}
	}
	return pos, nil
}

// expire drops the history of a channel quiet for longer than ttl; its
// next publication starts a new epoch.
func (ch *memChannel) expire(now time.Time, ttl time.Duration) {
	if ttl > 0 && ch.epoch != "" && now.Sub(ch.lastPub) > ttl {
		ch.epoch, ch.offset, ch.ring, ch.start = "", 0, nil, 0
	}
}

func (ch *memChannel) keep(pub Publication, size int) {
	if len(ch.ring) < size {
		ch.ring = append(ch.ring, pub)
		return
	}
	if len(ch.ring) > size { // the declared size shrank
		ch.ring = append(ch.ring[:0:0], ch.ordered()[len(ch.ring)-size:]...)
		ch.start = 0
	}
	ch.ring[ch.start] = pub
	ch.start = (ch.start + 1) % len(ch.ring)
}

// ordered returns the kept publications, oldest first.
func (ch *memChannel) ordered() []Publication {
	out := make([]Publication, 0, len(ch.ring))
	out = append(out, ch.ring[ch.start:]...)
	return append(out, ch.ring[:ch.start]...)
}

// History implements [Engine].
func (e *MemoryEngine) History(ctx context.Context, channel string, opts HistoryOptions) ([]Publication, rpc.Position, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, rpc.Position{}, ErrEngineClosed
	}
	ch := e.channels[channel]
	if ch == nil {
		if opts.HistorySize == 0 {
			e.mu.Unlock()
			return nil, rpc.Position{}, nil
		}
		ch = &memChannel{}
		e.channels[channel] = ch
	}
	ch.mu.Lock()
	e.mu.Unlock()
	defer ch.mu.Unlock()
	if opts.HistorySize > 0 {
		now := e.now()
		ch.expire(now, opts.HistoryTTL)
		if ch.epoch == "" {
			ch.epoch, ch.lastPub = newEpoch(), now
		}
	}
	pos := rpc.Position{Offset: ch.offset, Epoch: ch.epoch}
	all := ch.ordered()
	if opts.Since != nil {
		i := 0
		for i < len(all) && all[i].Offset <= opts.Since.Offset {
			i++
		}
		all = all[i:]
		if opts.Limit >= 0 && len(all) > opts.Limit {
			all = all[:opts.Limit]
		}
	} else if opts.Limit >= 0 && len(all) > opts.Limit {
		all = all[len(all)-opts.Limit:]
	}
	return all, pos, nil
}

// AddPresence implements [Engine].
func (e *MemoryEngine) AddPresence(ctx context.Context, channel, client string, info []byte, ttl time.Duration) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return ErrEngineClosed
	}
	m := e.presence[channel]
	if m == nil {
		m = map[string]presenceEntry{}
		e.presence[channel] = m
	}
	m[client] = presenceEntry{info: info, expires: e.now().Add(ttl)}
	return nil
}

// RemovePresence implements [Engine].
func (e *MemoryEngine) RemovePresence(ctx context.Context, channel, client string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if m := e.presence[channel]; m != nil {
		delete(m, client)
		if len(m) == 0 {
			delete(e.presence, channel)
		}
	}
	return nil
}

// Presence implements [Engine].
func (e *MemoryEngine) Presence(ctx context.Context, channel string) (map[string][]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrEngineClosed
	}
	now := e.now()
	out := map[string][]byte{}
	for client, p := range e.presence[channel] {
		if now.After(p.expires) {
			delete(e.presence[channel], client)
			continue
		}
		out[client] = p.info
	}
	return out, nil
}

// Close implements [Engine].
func (e *MemoryEngine) Close() error {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	return nil
}

// newEpoch returns a fresh random epoch.
func newEpoch() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
