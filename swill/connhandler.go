package swill

import "github.com/swillorg/swill-go/transport"

// connHandler is the face a [Conn] shows its transport: the callbacks of
// [transport.Handler]. They are methods of this unexported type, not
// of Conn, so that code holding a *Conn (a hook, a handler) cannot call
// them. A *connHandler is a *Conn converted, which costs nothing.
type connHandler Conn

var _ transport.Handler = (*connHandler)(nil)

// handler returns c as its transport's [transport.Handler].
func (c *Conn) handler() *connHandler { return (*connHandler)(c) }

// HandleMessage implements [transport.Handler].
func (h *connHandler) HandleMessage(typ transport.MessageType, data []byte) {
	(*Conn)(h).handleMessage(typ, data)
}

// HandleClose implements [transport.Handler].
func (h *connHandler) HandleClose(err error) { (*Conn)(h).handleClose(err) }
