package rpc

// The built-in calls of publish/subscribe, served by a server that mounts
// package pubsub. They are ordinary swill/1 calls: any client that can
// make a server-stream call can subscribe.
const (
	// SubscribeRPC is a server stream: its request is a
	// [SubscribeRequest]; leading metadata (a METADATA frame, always sent
	// first) carries the channel's position (PositionOffsetKey,
	// PositionEpochKey) and, for a request with Since, RecoveredKey; each
	// item is one publication, {"channel": str, "data": any, "offset":
	// uint}, or a join or leave, {"channel": str, "join": ClientInfo} and
	// {"channel": str, "leave": ClientInfo}. CANCEL or UnsubscribeRPC ends
	// it.
	SubscribeRPC = "swill.subscribe"
	// UnsubscribeRPC is unary: its request is an [UnsubscribeRequest]; it
	// ends the connection's subscription to that channel or pattern with
	// END_OF_STREAM and answers nil (also when there was none).
	UnsubscribeRPC = "swill.unsubscribe"
	// PublishRPC is unary: its request is a [PublishRequest]; it answers
	// the publication's [Position]. The server refuses it (403) unless an
	// OnPublish hook allows it.
	PublishRPC = "swill.publish"
	// PresenceRPC is unary: its request is a [ChannelRequest]; it answers
	// the channel's subscribers, a list of [ClientInfo].
	PresenceRPC = "swill.presence"
	// HistoryRPC is unary: its request is a [HistoryRequest]; it answers a
	// [HistoryResult].
	HistoryRPC = "swill.history"
	// InboxRPC is a server stream with a nil request: it carries the
	// publications of every channel the server subscribed the connection
	// to by itself, as items of the form SubscribeRPC uses.
	InboxRPC = "swill.inbox"
)

// Leading metadata keys of a SubscribeRPC stream.
const (
	// PositionOffsetKey holds the channel's offset when the subscription
	// started: the offset of its latest publication (0 without history).
	PositionOffsetKey = "swill-offset"
	// PositionEpochKey holds the channel's epoch ("" without history).
	PositionEpochKey = "swill-epoch"
	// RecoveredKey, sent when the request had Since, is true when every
	// publication after Since follows as the stream's first items, and
	// false when they could not be recovered (history too short, expired,
	// or of another epoch): the client should then reload its state.
	RecoveredKey = "swill-recovered"
)

// Position is a place in a channel's stream of publications: the offset
// of a publication, counted from 1 on each channel, and the epoch of the
// history it belongs to, which changes when that history is lost.
type Position struct {
	Offset uint64 `msgpack:"offset"`
	Epoch  string `msgpack:"epoch"`
}

// SubscribeRequest is the request of SubscribeRPC.
type SubscribeRequest struct {
	// Channel is a channel name, or a pattern when Pattern is set.
	Channel string `msgpack:"channel"`
	// Pattern makes Channel a glob pattern as Redis's PSUBSCRIBE reads it.
	Pattern bool `msgpack:"pattern,omitempty"`
	// Since asks for every publication after this position to be sent
	// first (recovery); not allowed with Pattern.
	Since *Position `msgpack:"since,omitempty"`
}

// UnsubscribeRequest is the request of UnsubscribeRPC.
type UnsubscribeRequest struct {
	Channel string `msgpack:"channel"`
	Pattern bool   `msgpack:"pattern,omitempty"`
}

// PublishRequest is the request of PublishRPC.
type PublishRequest struct {
	Channel string `msgpack:"channel"`
	Data    any    `msgpack:"data"`
}

// ChannelRequest names one channel.
type ChannelRequest struct {
	Channel string `msgpack:"channel"`
}

// HistoryRequest is the request of HistoryRPC.
type HistoryRequest struct {
	Channel string `msgpack:"channel"`
	// Limit caps the number of publications returned, the latest ones; 0
	// asks for the position only.
	Limit int `msgpack:"limit,omitempty"`
}

// HistoryResult is the answer of HistoryRPC: the latest publications kept
// for the channel, oldest first, each of the item form of SubscribeRPC,
// and the channel's current position, from which a subscription can
// recover without a gap.
type HistoryResult struct {
	Publications []any    `msgpack:"publications"`
	Position     Position `msgpack:"position"`
}

// ClientInfo is one subscriber of a channel as presence, join and leave
// show it.
type ClientInfo struct {
	// Client is the connection's id.
	Client string `msgpack:"client"`
	// User is the user the server's subscribe hook named, if any.
	User string `msgpack:"user,omitempty"`
	// Info is what the subscribe hook attached, if anything.
	Info any `msgpack:"info,omitempty"`
}
