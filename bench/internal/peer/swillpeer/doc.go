// Package swillpeer is swill-go as a peer of the benchmark suite: a swill
// server with a unary "add" handler and a server-stream "items" handler,
// called through clientgo. It registers one peer per transport compiled in:
// "swill" on the default transport (coder/websocket) always, and the
// others when the program is built with their tag (see the runner), since
// they live in packages that may not exist in every tree.
package swillpeer
