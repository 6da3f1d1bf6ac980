// Package psbench holds the publish/subscribe workloads of the suite: a
// server per peer (swill-go's pubsub hub, centrifuge's node) that
// publishes at a fixed rate when the runner asks, on the in-process
// engine or through Redis, and a raw WebSocket subscriber of each peer's
// wire protocol, one subscription per connection.
package psbench
