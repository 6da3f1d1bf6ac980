package pubsub

import (
	"context"
	"errors"
	"time"

	"github.com/swillorg/swill-go/rpc"
)

// Engine carries publications between the processes that serve one
// application, and keeps the history and presence of its channels. The
// [Hub] tells it once per channel (or pattern) per process that it has
// subscribers, and once when the last one left, as iodine's pub/sub draft
// asks; it never tells it about each subscriber.
//
// [NewMemoryEngine] is the engine of a single process, and the default.
// Package pubsub/redisengine carries publications through Redis.
//
// The Hub calls Subscribe and Unsubscribe for one key from one goroutine
// at a time, in order; every other method may be called concurrently.
type Engine interface {
	// Start binds the engine to its hub before any other call: the
	// engine hands every publication for this process's subscribers to
	// deliver. deliver must be called for one key from one goroutine at
	// a time, in the order of the publications' offsets; it does not
	// block on the network and does not keep pub after it returns.
	Start(ctx context.Context, deliver DeliverFunc) error

	// Subscribe tells the engine that this process has its first
	// subscriber of key, a channel or, with pattern, a glob as [Match]
	// reads it. Once it returns, every publication matching key is
	// delivered.
	Subscribe(ctx context.Context, key string, pattern bool) error
	// Unsubscribe tells the engine that the last subscriber of key left.
	Unsubscribe(ctx context.Context, key string, pattern bool) error

	// Publish publishes pub (its Channel and Data; the engine sets
	// Offset and Epoch when it keeps history) to every process. It
	// returns an error when the publication cannot be scheduled, and
	// never loses one silently. With opts.HistorySize > 0 it keeps the
	// publication in the channel's history and returns its position.
	Publish(ctx context.Context, pub Publication, opts PublishOptions) (rpc.Position, error)

	// History returns the kept publications of channel, oldest first,
	// and the channel's current position. With opts.Since set it returns
	// those after Since.Offset (whatever Since.Epoch; the hub compares
	// epochs); otherwise the latest ones. At most opts.Limit
	// publications are returned; a negative Limit means all, zero none.
	// A channel with history that has no epoch yet gets one here, so that
	// the position returned stays valid for the publications that follow.
	History(ctx context.Context, channel string, opts HistoryOptions) ([]Publication, rpc.Position, error)

	// AddPresence records (or refreshes) client as a subscriber of
	// channel with info, its encoded [rpc.ClientInfo], for ttl: an entry
	// that is not refreshed within ttl is dropped, so the subscribers of
	// a process that died leave the list.
	AddPresence(ctx context.Context, channel, client string, info []byte, ttl time.Duration) error
	// RemovePresence removes client from channel's presence.
	RemovePresence(ctx context.Context, channel, client string) error
	// Presence returns the encoded [rpc.ClientInfo] of every live
	// subscriber of channel, keyed by client id.
	Presence(ctx context.Context, channel string) (map[string][]byte, error)

	// Close stops the engine; the hub makes no call after it.
	Close() error
}

// DeliverFunc hands one publication to the hub for the local subscribers
// of key (a channel, or a pattern with pattern set).
type DeliverFunc func(key string, pattern bool, pub Publication)

// Publication is one message on a channel as engines carry it.
type Publication struct {
	// Channel is the channel it was published on.
	Channel string
	// Data is the MsgPack encoding of the message, or nil for a join or
	// a leave.
	Data []byte
	// Offset and Epoch are its position in the channel's history; zero
	// for a channel without history.
	Offset uint64
	Epoch  string
	// Join or Leave, when set, hold the encoded [rpc.ClientInfo] of a
	// subscriber who joined or left the channel; such publications are
	// never kept in history.
	Join, Leave []byte
}

// PublishOptions are the channel's history settings, from its
// declaration (see [WithHistory]).
type PublishOptions struct {
	// HistorySize is the number of publications kept; 0 keeps none.
	HistorySize int
	// HistoryTTL drops the history of a channel that has seen no
	// publication for this long; 0 keeps it until the engine stops.
	HistoryTTL time.Duration
}

// HistoryOptions select what History returns.
type HistoryOptions struct {
	Since *rpc.Position
	Limit int
	// PublishOptions are the channel's history settings.
	PublishOptions
}

// ErrEngineClosed is returned by an engine's methods after Close.
var ErrEngineClosed = errors.New("pubsub: engine closed")
