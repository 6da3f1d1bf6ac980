package clientgo

// State is the state of a [Client]'s connection.
type State int

// The states of a client. A client starts [StateConnected] (Dial fails
// otherwise), moves to [StateConnecting] when the connection is lost and
// back to [StateConnected] once a new one is up. Without reconnection, or
// once its attempts are exhausted, it stays [StateDisconnected]. [Client.Close]
// moves it to [StateClosed] for good.
const (
	// StateConnecting: no connection; the client is dialing or waiting
	// before its next attempt. New calls wait for the connection.
	StateConnecting State = iota
	// StateConnected: calls go out at once.
	StateConnected
	// StateDisconnected: the connection was lost and will not come back
	// (reconnection is off or gave up). Calls fail with
	// [ErrConnectionLost]; only [Client.Close] remains to be done.
	StateDisconnected
	// StateClosed: [Client.Close] was called. Calls fail with [ErrClosed].
	StateClosed
)

// String returns "connecting", "connected", "disconnected" or "closed".
func (s State) String() string {
	switch s {
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	case StateDisconnected:
		return "disconnected"
	case StateClosed:
		return "closed"
	}
	return "unknown"
}
