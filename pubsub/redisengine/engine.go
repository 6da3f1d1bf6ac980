package redisengine

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	crand "crypto/rand"

	"github.com/redis/go-redis/v9"
	"github.com/swillorg/swill-go/pubsub"
	"github.com/swillorg/swill-go/rpc"
)

// ErrUnavailable is returned by Subscribe while the engine has no
// connection to Redis for its subscriptions; the hub answers the client
// with ERROR 503, and the client tries again.
var ErrUnavailable = errors.New("redisengine: not connected to Redis")

// Engine is a [pubsub.Engine] on Redis; see the package doc. Make one
// with [New] and hand it to [pubsub.WithEngine]; the hub starts and
// closes it. Its methods are safe for concurrent use.
type Engine struct {
	client  redis.UniversalClient
	prefix  string
	minWait time.Duration
	maxWait time.Duration
	health  time.Duration
	log     *slog.Logger

	deliver pubsub.DeliverFunc
	closing chan struct{}
	done    chan struct{}

	mu       sync.Mutex
	ps       *redis.PubSub            // the current connection's; nil while there is none
	resync   bool                     // a new connection: read the gaps from history at its first confirmation
	channels map[string]*channelState // by Redis channel
	patterns map[string]string        // hub pattern by Redis pattern
	waiters  map[string][]chan error  // Subscribe calls waiting for their confirmation, by kind+name
	started  bool
	closed   bool

	stats struct{ reconnects, recovered, dropped atomic.Uint64 }
}

// channelState is what the engine delivered of one channel: the reader
// goroutine alone reads and writes epoch and last.
type channelState struct {
	key   string // the hub's name of the channel
	epoch string
	last  uint64
}

// Option configures an [Engine].
type Option func(*Engine)

// WithPrefix sets the prefix of every Redis key and channel the engine
// uses (default "swill:"), so that several applications can share a
// Redis server: processes of one application must use the same.
func WithPrefix(p string) Option { return func(e *Engine) { e.prefix = p } }

// WithBackoff sets the wait before reconnecting to Redis: min after the
// first failure, doubling up to max, each time picked at random in its
// upper half so that the processes of an application do not come back
// all at once. Default 50ms and 5s.
func WithBackoff(min, max time.Duration) Option {
	return func(e *Engine) { e.minWait, e.maxWait = min, max }
}

// WithHealthCheck sets how long the subscription connection may stay
// silent before the engine PINGs it; one that does not answer within as
// long again is taken for lost. Default 15s.
func WithHealthCheck(d time.Duration) Option { return func(e *Engine) { e.health = d } }

// WithLogger sets the logger of lost connections and malformed messages;
// the default is slog.Default().
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// New returns an engine on client, which it uses for publications,
// history and presence, and for one subscription connection of its own.
// The engine does not close client.
func New(client redis.UniversalClient, opts ...Option) *Engine {
	e := &Engine{
		client:   client,
		prefix:   "swill:",
		minWait:  50 * time.Millisecond,
		maxWait:  5 * time.Second,
		health:   15 * time.Second,
		log:      slog.Default(),
		closing:  make(chan struct{}),
		done:     make(chan struct{}),
		channels: map[string]*channelState{},
		patterns: map[string]string{},
		waiters:  map[string][]chan error{},
	}
	for _, o := range opts {
		o(e)
	}
	if e.maxWait < e.minWait {
		e.maxWait = e.minWait
	}
	return e
}

// Stats are an engine's counters since it started.
type Stats struct {
	// Connected tells whether the engine has its subscription connection.
	Connected bool
	// Reconnects counts the subscription connections made after a lost one.
	Reconnects uint64
	// Recovered counts publications read from history after a gap,
	// delivered in their place.
	Recovered uint64
	// Dropped counts malformed messages on the engine's Redis channels.
	Dropped uint64
}

// Stats returns the engine's counters.
func (e *Engine) Stats() Stats {
	e.mu.Lock()
	connected := e.ps != nil
	e.mu.Unlock()
	return Stats{
		Connected:  connected,
		Reconnects: e.stats.reconnects.Load(),
		Recovered:  e.stats.recovered.Load(),
		Dropped:    e.stats.dropped.Load(),
	}
}

// Names in Redis.

func (e *Engine) redisChannel(channel string) string { return e.prefix + channel }

// redisPattern escapes the prefix, so that only the pattern is a glob.
func (e *Engine) redisPattern(pattern string) string {
	var b strings.Builder
	for _, r := range e.prefix {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + pattern
}

func (e *Engine) metaKey(ch string) string     { return e.prefix + "m:{" + ch + "}" }
func (e *Engine) streamKey(ch string) string   { return e.prefix + "h:{" + ch + "}" }
func (e *Engine) presenceKey(ch string) string { return e.prefix + "p:{" + ch + "}" }
func (e *Engine) expiryKey(ch string) string   { return e.prefix + "z:{" + ch + "}" }

// Start implements [pubsub.Engine]: it connects the subscription
// connection, and fails when Redis cannot be reached.
func (e *Engine) Start(ctx context.Context, deliver pubsub.DeliverFunc) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return pubsub.ErrEngineClosed
	}
	if e.started {
		return errors.New("redisengine: started twice")
	}
	if err := e.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redisengine: reaching Redis: %w", err)
	}
	e.deliver = deliver
	e.started = true
	ps := e.client.Subscribe(ctx)
	e.ps = ps
	go e.run(ps)
	return nil
}

// Subscribe implements [pubsub.Engine]: it returns once Redis confirmed
// the SUBSCRIBE (or PSUBSCRIBE).
func (e *Engine) Subscribe(ctx context.Context, key string, pattern bool) error {
	name, wkey := e.redisChannel(key), "s"+key
	if pattern {
		name, wkey = e.redisPattern(key), "p"+key
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return pubsub.ErrEngineClosed
	}
	ps := e.ps
	if ps == nil {
		e.mu.Unlock()
		return ErrUnavailable
	}
	if pattern {
		e.patterns[name] = key
	} else {
		e.channels[name] = &channelState{key: key}
	}
	w := make(chan error, 1)
	e.waiters[wkey] = append(e.waiters[wkey], w)
	e.mu.Unlock()

	var err error
	if pattern {
		err = ps.PSubscribe(ctx, name)
	} else {
		err = ps.Subscribe(ctx, name)
	}
	if err == nil {
		select {
		case err = <-w:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		e.mu.Lock()
		e.dropWaiter(wkey, w)
		e.mu.Unlock()
		_ = e.Unsubscribe(context.WithoutCancel(ctx), key, pattern)
		return fmt.Errorf("redisengine: subscribing to %q: %w", key, err)
	}
	return nil
}

func (e *Engine) dropWaiter(wkey string, w chan error) {
	ws := e.waiters[wkey]
	for i, x := range ws {
		if x == w {
			e.waiters[wkey] = append(ws[:i:i], ws[i+1:]...)
			break
		}
	}
	if len(e.waiters[wkey]) == 0 {
		delete(e.waiters, wkey)
	}
}

// Unsubscribe implements [pubsub.Engine].
func (e *Engine) Unsubscribe(ctx context.Context, key string, pattern bool) error {
	e.mu.Lock()
	var name string
	if pattern {
		name = e.redisPattern(key)
		delete(e.patterns, name)
	} else {
		name = e.redisChannel(key)
		delete(e.channels, name)
	}
	ps := e.ps
	e.mu.Unlock()
	if ps == nil {
		return nil // the next connection will not subscribe to it
	}
	if pattern {
		return ps.PUnsubscribe(ctx, name)
	}
	return ps.Unsubscribe(ctx, name)
}

// Publish implements [pubsub.Engine]. It returns an error when Redis
// does not take the publication; the publication may still have been
// made when the error came from a connection lost after Redis ran it.
func (e *Engine) Publish(ctx context.Context, pub pubsub.Publication, opts pubsub.PublishOptions) (rpc.Position, error) {
	if e.isClosed() {
		return rpc.Position{}, pubsub.ErrEngineClosed
	}
	kind, body := byte('d'), pub.Data
	switch {
	case pub.Join != nil:
		kind, body = 'j', pub.Join
	case pub.Leave != nil:
		kind, body = 'l', pub.Leave
	}
	if body == nil {
		body = []byte{0xc0}
	}
	name := e.redisChannel(pub.Channel)
	if opts.HistorySize <= 0 || kind != 'd' {
		msg := make([]byte, 0, len(body)+4)
		msg = append(append(msg, kind), "0::"...)
		if err := e.client.Publish(ctx, name, append(msg, body...)).Err(); err != nil {
			return rpc.Position{}, err
		}
		return rpc.Position{}, nil
	}
	res, err := publishScript.Run(ctx, e.client, []string{e.metaKey(pub.Channel), e.streamKey(pub.Channel)},
		name, body, opts.HistorySize, opts.HistoryTTL.Milliseconds(), newEpoch(), "d").Slice()
	if err != nil {
		return rpc.Position{}, err
	}
	if len(res) != 2 {
		return rpc.Position{}, fmt.Errorf("redisengine: unexpected reply %v", res)
	}
	off, _ := res[0].(int64)
	epoch, _ := res[1].(string)
	return rpc.Position{Offset: uint64(off), Epoch: epoch}, nil
}

// History implements [pubsub.Engine].
func (e *Engine) History(ctx context.Context, channel string, opts pubsub.HistoryOptions) ([]pubsub.Publication, rpc.Position, error) {
	if e.isClosed() {
		return nil, rpc.Position{}, pubsub.ErrEngineClosed
	}
	since := int64(-1)
	if opts.Since != nil {
		since = int64(opts.Since.Offset)
	}
	return e.history(ctx, e.client, channel, since, opts.Limit, opts.HistorySize > 0, opts.HistoryTTL)
}

func (e *Engine) history(ctx context.Context, c redis.Scripter, channel string, since int64, limit int, create bool, ttl time.Duration) ([]pubsub.Publication, rpc.Position, error) {
	mk := "0"
	if create {
		mk = "1"
	}
	res, err := historyScript.Run(ctx, c, []string{e.metaKey(channel), e.streamKey(channel)},
		since, limit, mk, ttl.Milliseconds(), newEpoch()).Slice()
	if err != nil {
		return nil, rpc.Position{}, err
	}
	return parseHistory(channel, res)
}

// parseHistory reads historyScript's reply.
func parseHistory(channel string, res []any) ([]pubsub.Publication, rpc.Position, error) {
	bad := fmt.Errorf("redisengine: unexpected history reply %v", res)
	if len(res) != 4 {
		return nil, rpc.Position{}, bad
	}
	off, ok1 := res[0].(int64)
	epoch, ok2 := res[1].(string)
	entries, ok3 := res[2].([]any)
	reversed, _ := res[3].(string)
	if !ok1 || !ok2 || !ok3 {
		return nil, rpc.Position{}, bad
	}
	pos := rpc.Position{Offset: uint64(off), Epoch: epoch}
	pubs := make([]pubsub.Publication, 0, len(entries))
	for _, x := range entries {
		entry, _ := x.([]any)
		if len(entry) != 2 {
			return nil, rpc.Position{}, bad
		}
		id, _ := entry[0].(string)
		fields, _ := entry[1].([]any)
		o, err := strconv.ParseUint(strings.TrimSuffix(id, "-0"), 10, 64)
		if err != nil || len(fields) != 2 {
			return nil, rpc.Position{}, bad
		}
		data, _ := fields[1].(string)
		pubs = append(pubs, pubsub.Publication{Channel: channel, Data: []byte(data), Offset: o, Epoch: epoch})
	}
	if reversed == "1" {
		for i, j := 0, len(pubs)-1; i < j; i, j = i+1, j-1 {
			pubs[i], pubs[j] = pubs[j], pubs[i]
		}
	}
	return pubs, pos, nil
}

// AddPresence implements [pubsub.Engine].
func (e *Engine) AddPresence(ctx context.Context, channel, client string, info []byte, ttl time.Duration) error {
	if e.isClosed() {
		return pubsub.ErrEngineClosed
	}
	ms := ttl.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	return addPresenceScript.Run(ctx, e.client, []string{e.presenceKey(channel), e.expiryKey(channel)},
		client, info, ms).Err()
}

// RemovePresence implements [pubsub.Engine].
func (e *Engine) RemovePresence(ctx context.Context, channel, client string) error {
	if e.isClosed() {
		return pubsub.ErrEngineClosed
	}
	return removePresenceScript.Run(ctx, e.client, []string{e.presenceKey(channel), e.expiryKey(channel)}, client).Err()
}

// Presence implements [pubsub.Engine].
func (e *Engine) Presence(ctx context.Context, channel string) (map[string][]byte, error) {
	if e.isClosed() {
		return nil, pubsub.ErrEngineClosed
	}
	res, err := presenceScript.Run(ctx, e.client, []string{e.presenceKey(channel), e.expiryKey(channel)}).Slice()
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		k, _ := res[i].(string)
		v, _ := res[i+1].(string)
		out[k] = []byte(v)
	}
	return out, nil
}

// Close implements [pubsub.Engine]: it closes the subscription
// connection and waits for its goroutine. It leaves the client open.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	close(e.closing)
	ps := e.ps
	e.ps = nil
	started := e.started
	e.failWaiters(pubsub.ErrEngineClosed)
	e.mu.Unlock()
	if ps != nil {
		_ = ps.Close()
	}
	if started {
		<-e.done
	}
	return nil
}

func (e *Engine) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

func (e *Engine) failWaiters(err error) {
	for k, ws := range e.waiters {
		for _, w := range ws {
			w <- err
		}
		delete(e.waiters, k)
	}
}

// run is the goroutine of the subscription connection: it reads ps until
// it fails, then reconnects with backoff, until Close.
func (e *Engine) run(ps *redis.PubSub) {
	defer close(e.done)
	wait := e.minWait
	for {
		worked := e.read(ps)
		e.mu.Lock()
		if e.ps == ps {
			e.ps = nil
		}
		e.failWaiters(ErrUnavailable)
		e.mu.Unlock()
		_ = ps.Close()
		if worked {
			wait = e.minWait
		}
		for attempt := 1; ; attempt++ {
			if !e.sleep(wait) {
				return
			}
			wait = min(2*wait, e.maxWait)
			var err error
			if ps, err = e.connect(); err == nil {
				e.log.Info("redisengine: reconnected to Redis", "attempts", attempt)
				break
			}
			if errors.Is(err, pubsub.ErrEngineClosed) {
				return
			}
			if attempt == 1 || attempt%20 == 0 { // not every time: one line per outage, then now and then
				e.log.Warn("redisengine: reconnecting to Redis failed", "err", err, "attempts", attempt, "retry-in", wait)
			}
		}
		e.stats.reconnects.Add(1)
	}
}

// sleep waits d, or a random time in its upper half, and reports false
// when the engine closed meanwhile.
func (e *Engine) sleep(d time.Duration) bool {
	d = d/2 + rand.N(d/2+1)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-e.closing:
		return false
	case <-t.C:
		return true
	}
}

// connect opens a subscription connection with every channel and
// pattern subscribed to, and makes it the current one.
func (e *Engine) connect() (*redis.PubSub, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, pubsub.ErrEngineClosed
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ps := e.client.Subscribe(ctx)
	var err error
	if len(e.patterns) > 0 {
		names := make([]string, 0, len(e.patterns))
		for n := range e.patterns {
			names = append(names, n)
		}
		err = ps.PSubscribe(ctx, names...)
	}
	if len(e.channels) > 0 && err == nil {
		names := make([]string, 0, len(e.channels))
		for n := range e.channels {
			names = append(names, n)
		}
		err = ps.Subscribe(ctx, names...)
		e.resync = true
	} else if err == nil {
		err = ps.Ping(ctx) // connect now, to know that Redis is back
	}
	if err != nil {
		_ = ps.Close()
		return nil, err
	}
	e.ps = ps
	return ps, nil
}

// read receives from ps until it fails, and reports whether it received
// anything.
func (e *Engine) read(ps *redis.PubSub) bool {
	worked, pinged := false, false
	for {
		msg, err := ps.ReceiveTimeout(context.Background(), e.health)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				pinged = true
				if ps.Ping(context.Background()) == nil {
					continue
				}
			}
			if !e.isClosed() {
				e.log.Warn("redisengine: lost the subscription connection to Redis", "err", err)
			}
			return worked
		}
		worked, pinged = true, false
		switch m := msg.(type) {
		case *redis.Subscription:
			e.confirmed(m)
		case *redis.Message:
			e.receive(m)
		}
	}
}

// confirmed wakes the Subscribe calls waiting for m and, on a new
// connection's first confirmation of its channels, reads the gaps.
func (e *Engine) confirmed(m *redis.Subscription) {
	var wkey string
	switch m.Kind {
	case "subscribe":
		wkey = "s" + strings.TrimPrefix(m.Channel, e.prefix)
	case "psubscribe":
		e.mu.Lock()
		wkey = "p" + e.patterns[m.Channel]
		e.mu.Unlock()
	default:
		return
	}
	e.mu.Lock()
	for _, w := range e.waiters[wkey] {
		w <- nil
	}
	delete(e.waiters, wkey)
	resync := e.resync && m.Kind == "subscribe"
	if resync {
		e.resync = false
	}
	e.mu.Unlock()
	if resync {
		e.recoverAll()
	}
}

// receive hands one message to the hub.
func (e *Engine) receive(m *redis.Message) {
	e.mu.Lock()
	var st *channelState
	var pattern string
	if m.Pattern != "" {
		pattern = e.patterns[m.Pattern]
	} else {
		st = e.channels[m.Channel]
	}
	e.mu.Unlock()
	if st == nil && pattern == "" {
		return // unsubscribed meanwhile
	}
	pub, ok := parseMessage(strings.TrimPrefix(m.Channel, e.prefix), m.Payload)
	if !ok {
		e.stats.dropped.Add(1)
		e.log.Warn("redisengine: malformed message", "channel", m.Channel)
		return
	}
	if pattern != "" {
		e.deliver(pattern, true, pub)
		return
	}
	if pub.Offset != 0 && st.epoch == pub.Epoch {
		if pub.Offset <= st.last {
			return // delivered already, from history
		}
		if st.last != 0 && pub.Offset > st.last+1 {
			e.recover(st, pub.Offset-1)
		}
	}
	e.pass(st, pub)
}

// pass delivers one publication of an exact channel.
func (e *Engine) pass(st *channelState, pub pubsub.Publication) {
	if pub.Offset != 0 {
		if st.epoch == pub.Epoch && pub.Offset <= st.last {
			return
		}
		st.epoch, st.last = pub.Epoch, pub.Offset
	}
	e.deliver(st.key, false, pub)
}

// recover delivers the kept publications of st's channel after the last
// one delivered, up to offset upTo (0: all).
func (e *Engine) recover(st *channelState, upTo uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pubs, pos, err := e.history(ctx, e.client, st.key, int64(st.last), -1, false, 0)
	if err != nil {
		e.log.Warn("redisengine: reading a gap from history failed", "channel", st.key, "err", err)
		return // the hub sees the gap and ends its subscriptions
	}
	e.passAll(st, pubs, pos, upTo)
}

func (e *Engine) passAll(st *channelState, pubs []pubsub.Publication, pos rpc.Position, upTo uint64) {
	if pos.Epoch != st.epoch {
		return // history was lost: the next publication tells the hub
	}
	for _, p := range pubs {
		if upTo != 0 && p.Offset > upTo {
			break
		}
		if p.Offset > st.last {
			e.stats.recovered.Add(1)
			e.pass(st, p)
		}
	}
}

// recoverAll reads, after a reconnect, what every channel missed, in one
// round trip per hundred channels.
func (e *Engine) recoverAll() {
	e.mu.Lock()
	var sts []*channelState
	for _, st := range e.channels {
		if st.last != 0 {
			sts = append(sts, st)
		}
	}
	e.mu.Unlock()
	for len(sts) > 0 {
		batch := sts[:min(len(sts), 100)]
		sts = sts[len(batch):]
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		pipe := e.client.Pipeline()
		cmds := make([]*redis.Cmd, len(batch))
		for i, st := range batch {
			cmds[i] = pipe.Eval(ctx, historySrc, []string{e.metaKey(st.key), e.streamKey(st.key)},
				int64(st.last), -1, "0", 0, "")
		}
		_, err := pipe.Exec(ctx)
		cancel()
		if err != nil && !errors.Is(err, redis.Nil) {
			e.log.Warn("redisengine: reading the gaps from history failed", "err", err)
		}
		for i, st := range batch {
			res, err := cmds[i].Slice()
			if err != nil {
				continue
			}
			if pubs, pos, err := parseHistory(st.key, res); err == nil {
				e.passAll(st, pubs, pos, 0)
			}
		}
	}
}

// parseMessage reads a message of the engine's Redis channels (see the
// package doc).
func parseMessage(channel, p string) (pubsub.Publication, bool) {
	if len(p) < 3 {
		return pubsub.Publication{}, false
	}
	kind, rest := p[0], p[1:]
	i := strings.IndexByte(rest, ':')
	if i < 0 {
		return pubsub.Publication{}, false
	}
	off, err := strconv.ParseUint(rest[:i], 10, 64)
	if err != nil {
		return pubsub.Publication{}, false
	}
	rest = rest[i+1:]
	j := strings.IndexByte(rest, ':')
	if j < 0 {
		return pubsub.Publication{}, false
	}
	pub := pubsub.Publication{Channel: channel, Offset: off, Epoch: rest[:j]}
	body := []byte(rest[j+1:])
	switch kind {
	case 'd':
		pub.Data = body
	case 'j':
		pub.Join = body
	case 'l':
		pub.Leave = body
	default:
		return pubsub.Publication{}, false
	}
	return pub, true
}

// newEpoch returns a fresh random epoch, for a channel that has none.
func newEpoch() string {
	var b [8]byte
	_, _ = crand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var _ pubsub.Engine = (*Engine)(nil)
