package rpc

// The WebSocket subprotocols of swill/1, in order of preference. Servers
// accept both and prefer [Subprotocol]; clients offer both.
//
// [Subprotocol] is a valid token for browsers, whose WebSocket constructor
// refuses "/" in a subprotocol; [LegacySubprotocol] is what the reference
// Python server requires and the reference clients offer.
const (
	Subprotocol       = "swill.v1"
	LegacySubprotocol = "swill/1"
)
