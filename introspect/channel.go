package introspect

import (
	"reflect"
	"time"
)

// ChannelSpec describes a declared publish/subscribe channel to this
// package, as [Spec] describes a handler: a server extension that serves
// channels (package pubsub) hands its declarations to the server as
// ChannelSpecs, and [NewDocument] writes them into the document.
type ChannelSpec struct {
	// Pattern is the channel's name, or the glob its names match.
	Pattern string
	// Glob is set when Pattern is a glob rather than a plain name.
	Glob bool
	// Message is the Go type of the channel's messages; nil for an
	// untyped channel, whose messages may be any value.
	Message reflect.Type
	// Doc is the channel's documentation, possibly empty.
	Doc string
	// HistorySize and HistoryTTL are the history the channel keeps: the
	// last HistorySize publications, for HistoryTTL after the latest
	// (0: as long as the engine runs). HistorySize 0 keeps none.
	HistorySize int
	HistoryTTL  time.Duration
	// Presence is set when the channel keeps the list of its subscribers,
	// JoinLeave when it also publishes their joins and leaves.
	Presence, JoinLeave bool
	// Publish is set when clients may publish (swill.publish), subject to
	// the server's authorization of each publication; otherwise every
	// client publication is refused.
	Publish bool
}

// Channel describes one declared publish/subscribe channel in a
// [Document]: the channels whose names match Pattern carry messages of
// the Message schema, as items {"channel", "data", "offset"} of the
// swill.subscribe stream.
type Channel struct {
	// Pattern is the channel's name, or the glob its names match when
	// Glob is set.
	Pattern string `msgpack:"pattern" json:"pattern"`
	// Glob is set when Pattern is a glob (*, ?, [...], \ escapes as
	// Redis's PSUBSCRIBE reads them) covering many channels.
	Glob bool `msgpack:"glob" json:"glob"`
	// Doc is the channel's documentation, "" when it has none.
	Doc string `msgpack:"doc" json:"doc"`
	// Message is the JSON Schema of one message (the data of one
	// publication); the empty schema {} for an untyped channel.
	Message *Schema `msgpack:"message" json:"message"`
	// History is the history the channel keeps, nil when it keeps none;
	// with history, a subscriber recovers the publications it missed.
	History *ChannelHistory `msgpack:"history" json:"history"`
	// Presence is set when swill.presence lists the channel's
	// subscribers.
	Presence bool `msgpack:"presence" json:"presence"`
	// JoinLeave is set when subscribers also receive joins and leaves.
	JoinLeave bool `msgpack:"join_leave" json:"join_leave"`
	// Publish is set when clients may publish with swill.publish, each
	// publication subject to the server's authorization; when it is not,
	// the server refuses every client publication (403).
	Publish bool `msgpack:"publish" json:"publish"`
}

// ChannelHistory is the history a [Channel] keeps.
type ChannelHistory struct {
	// Size is the number of publications kept.
	Size int `msgpack:"size" json:"size"`
	// TTLMillis is how long they are kept after the latest publication,
	// in milliseconds; 0 for as long as the server's engine runs.
	TTLMillis int64 `msgpack:"ttl_ms" json:"ttl_ms"`
}

// Channel returns the declared channel whose pattern is pattern, or nil.
func (d *Document) Channel(pattern string) *Channel {
	for i := range d.Channels {
		if d.Channels[i].Pattern == pattern {
			return &d.Channels[i]
		}
	}
	return nil
}

// channel writes spec as the document describes it, its message schema
// from g.
func (g *generator) channel(spec ChannelSpec) Channel {
	c := Channel{
		Pattern:   spec.Pattern,
		Glob:      spec.Glob,
		Doc:       spec.Doc,
		Message:   &Schema{},
		Presence:  spec.Presence || spec.JoinLeave,
		JoinLeave: spec.JoinLeave,
		Publish:   spec.Publish,
	}
	if spec.Message != nil {
		c.Message = g.schema(spec.Message)
	}
	if spec.HistorySize > 0 {
		c.History = &ChannelHistory{Size: spec.HistorySize, TTLMillis: spec.HistoryTTL.Milliseconds()}
	}
	return c
}

func channelTypes(channels []ChannelSpec) []reflect.Type {
	var types []reflect.Type
	for _, c := range channels {
		if c.Message != nil {
			types = append(types, c.Message)
		}
	}
	return types
}
