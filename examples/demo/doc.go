// Command demo serves the demo service over swill/1 at ws://ADDR/ws.
//
//	go run ./examples/demo [-addr 127.0.0.1:8080]
//
// It prints the URL it listens on ("-addr 127.0.0.1:0" picks a free port)
// as the first line of stdout, serves the docs and playground page at
// http://ADDR/docs/ (logged on stderr; http://ADDR/ redirects there) and a
// chat at http://ADDR/chat/ (package chat: pub/sub, one channel per room),
// and stops gracefully on SIGINT or SIGTERM.
//
// Every client gets a session (demo.visits counts its calls). The chat's
// pub/sub and the sessions live in the process unless -redis names a Redis
// server: then every demo process on it shares rooms, history, presence
// and sessions, as in docs/scaling.md:
//
//	go run ./examples/demo -addr 127.0.0.1:8080 -redis redis://127.0.0.1:6379/0
//	go run ./examples/demo -addr 127.0.0.1:8081 -redis redis://127.0.0.1:6379/0
package main
