package pubsub

import (
	"fmt"
	"reflect"
	"time"

	"github.com/swillorg/swill-go/codec"
)

// ChannelSpec declares the channels whose names match a pattern: the type
// of their messages and their history, presence and join/leave settings.
// Build one with [Channel] (typed) or [Untyped] and give it to
// [WithChannels]. The first declaration whose pattern matches a channel's
// name is the channel's; a channel no declaration matches is untyped,
// without history or presence (unless [WithStrictChannels] refuses it).
type ChannelSpec struct {
	pattern     string
	typ         reflect.Type // nil: any message
	doc         string
	historySize int
	historyTTL  time.Duration
	presence    bool
	joinLeave   bool
	decode      func([]byte) (any, error)
}

// Channel declares channels matching pattern (a glob as [Match] reads
// it, or a plain name) whose messages are of type T. A publication of
// another type is refused, by [Hub.Publish] with an error and by
// swill.publish with ERROR 400; introspection, codegen and the playground
// show T as the channel's message type.
func Channel[T any](pattern string, opts ...ChannelOption) *ChannelSpec {
	s := &ChannelSpec{pattern: pattern, typ: reflect.TypeFor[T]()}
	s.decode = func(b []byte) (any, error) {
		v := new(T)
		if err := codec.Unmarshal(b, v); err != nil {
			return nil, err
		}
		return *v, nil
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Untyped declares channels matching pattern whose messages may be any
// MsgPack value, for their history and presence settings.
func Untyped(pattern string, opts ...ChannelOption) *ChannelSpec {
	s := &ChannelSpec{pattern: pattern}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Pattern returns the pattern the declaration covers.
func (s *ChannelSpec) Pattern() string { return s.pattern }

// MessageType returns the Go type of the channel's messages, nil for an
// untyped channel.
func (s *ChannelSpec) MessageType() reflect.Type { return s.typ }

// Doc returns the documentation given with [ChannelDoc].
func (s *ChannelSpec) Doc() string { return s.doc }

// History returns the number of publications kept and for how long.
// A nil spec (an undeclared channel) keeps none.
func (s *ChannelSpec) History() (size int, ttl time.Duration) {
	if s == nil {
		return 0, 0
	}
	return s.historySize, s.historyTTL
}

// Presence reports whether the channel keeps presence, and whether it
// publishes joins and leaves.
// A nil spec (an undeclared channel) keeps none.
func (s *ChannelSpec) Presence() (presence, joinLeave bool) {
	if s == nil {
		return false, false
	}
	return s.presence, s.joinLeave
}

// ChannelOption configures a [ChannelSpec].
type ChannelOption func(*ChannelSpec)

// WithHistory keeps the last size publications of each channel, for ttl
// after its latest publication (0: as long as the engine runs), so that
// subscribers can recover what they missed and read the history.
func WithHistory(size int, ttl time.Duration) ChannelOption {
	return func(s *ChannelSpec) { s.historySize, s.historyTTL = size, ttl }
}

// WithPresence keeps the list of each channel's subscribers, which
// swill.presence and [Hub.Presence] return.
func WithPresence() ChannelOption {
	return func(s *ChannelSpec) { s.presence = true }
}

// WithJoinLeave keeps presence and also publishes a join when a client
// subscribes and a leave when its subscription ends, to every subscriber.
func WithJoinLeave() ChannelOption {
	return func(s *ChannelSpec) { s.presence, s.joinLeave = true, true }
}

// ChannelDoc documents the channel for introspection and the playground.
func ChannelDoc(doc string) ChannelOption {
	return func(s *ChannelSpec) { s.doc = doc }
}

// check reports a declaration mistake.
func (s *ChannelSpec) check() error {
	if s.pattern == "" {
		return fmt.Errorf("pubsub: channel with an empty pattern")
	}
	if s.historySize < 0 || s.historyTTL < 0 {
		return fmt.Errorf("pubsub: channel %q: negative history", s.pattern)
	}
	return nil
}

// matches reports whether the declaration covers channel name.
func (s *ChannelSpec) matches(name string) bool {
	if !isPattern(s.pattern) {
		return s.pattern == name
	}
	return Match(s.pattern, name)
}

// checkMessage reports an error when msg is not of the channel's type.
func (s *ChannelSpec) checkMessage(msg any) error {
	if s == nil || s.typ == nil {
		return nil
	}
	t := reflect.TypeOf(msg)
	if t == s.typ || (t != nil && t.Kind() == reflect.Pointer && t.Elem() == s.typ) {
		return nil
	}
	return fmt.Errorf("pubsub: channel %q carries %s, not %v", s.pattern, s.typ, t)
}
