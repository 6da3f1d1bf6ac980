// Package pubsub adds publish/subscribe to a swill server: channels and
// glob patterns, typed messages, history with recovery after a reconnect,
// presence with joins and leaves, over the connection an application
// already has and with no frame type of its own.
//
// A [Hub] keeps the subscriptions of one process and fans publications out
// to them; its [Engine] carries publications between processes and keeps
// history and presence ([NewMemoryEngine], the default, for one process;
// package pubsub/redisengine for several). Mount a hub on a server by
// mounting it ([swill.Server.Mount]): the built-in calls swill.subscribe,
// swill.unsubscribe, swill.publish, swill.presence, swill.history and
// swill.inbox, described with their frames in docs/pubsub.md and by the
// constants of package rpc.
//
// # Delivery
//
// A publication is encoded once, and its bytes are copied into the frame
// of each subscriber's connection without waiting: a subscriber whose
// connection's outgoing queue is full (swill's Limits.MaxQueueBytes)
// never blocks the publisher or the other subscribers; its subscription
// ends with ERROR 429, and the client subscribes again from its last
// position. Without history, delivery is at most once; with it
// ([WithHistory]), a client that subscribes again with its last position
// gets exactly the publications it missed, in order, or learns that they
// were lost (leading metadata swill-recovered false).
//
// # Order
//
// Publications on one channel reach every subscriber in the order the
// engine assigned them. Publications on different channels are not
// ordered with each other.
package pubsub
