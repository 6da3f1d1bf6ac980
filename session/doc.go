// Package session gives each client of a swill server a session: values
// kept in a [Store] under an id that the client presents again when it
// reconnects, to the same node or, with a shared store such as package
// session/redisstore, to another.
//
// A [Manager] is HTTP middleware around the swill server's handler. On
// every WebSocket upgrade it reads the session id from the request (the
// header Swill-Session, else the cookie swill_session), loads that session
// from the store, or makes a new one when the request has none, or one the
// store does not know (expired, deleted, or never issued: an id a client
// made up is never taken), and sends the id back on the upgrade response:
// as an HttpOnly, SameSite=Lax cookie (Secure over TLS) for browsers, and
// in the Swill-Session header for other clients. Handlers, hooks and
// interceptors find the session with [FromContext]:
//
//	sessions := session.New() // in memory; session.WithStore(redisstore.New(rdb)) for several nodes
//	mux.Handle("/ws", sessions.Handler(srv))
//
//	func (ctx context.Context, req Req) (Res, error) {
//		s := session.FromContext(ctx)
//		var cart Cart
//		_, err := s.Get("cart", &cart)
//		...
//		err = s.Set(ctx, "cart", cart)
//	}
//
// # Ids
//
// An id is 32 bytes from crypto/rand (256 bits), in unpadded base64url: 43
// characters. Requests with anything else get a new session; the store is
// never asked about a malformed id.
//
// # What a session must never hold
//
// A session's values sit in the store in plain text, for as long as its
// TTL, readable by whoever reads the store (a Redis dump, a replica, a
// backup). Never put secrets there: no passwords, no API keys or access
// tokens of third parties, no payment card data. Keep the user's id, not
// their credentials; keep a reference to a secret kept elsewhere,
// encrypted, when a handler needs one. The id itself is a bearer
// credential: whoever has it has the session. Do not log it, do not put it
// in URLs, and destroy the session ([Session.Destroy]) at logout.
package session
