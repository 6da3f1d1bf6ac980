// Package redisengine is a [pubsub.Engine] on Redis, for an application
// served by several processes: publications go through Redis's PUBLISH to
// every process, each of which holds one SUBSCRIBE per channel and one
// PSUBSCRIBE per pattern that its clients subscribed to, however many
// clients that is; history, positions and presence live in Redis, so a
// client that reconnects to another process recovers what it missed there.
//
//	rdb := redis.NewClient(opt) // or redis.NewUniversalClient, redis.NewClusterClient
//	engine := redisengine.New(rdb)
//	hub, err := pubsub.New(pubsub.WithEngine(engine), pubsub.WithChannels(...))
//
// Importing this package is what brings go-redis into a build; an
// application on one process keeps [pubsub.NewMemoryEngine] and does not
// compile it.
//
// # Keys
//
// Every name starts with the prefix ([WithPrefix], default "swill:"). A
// channel C is published on the Redis channel PREFIX+C; its keys are
//
//	PREFIX m:{C}  a hash: the epoch (e) and the latest offset (o)
//	PREFIX h:{C}  a stream of its kept publications, entry id OFFSET-0
//	PREFIX p:{C}  a hash of its subscribers' encoded rpc.ClientInfo, by client id
//	PREFIX z:{C}  a sorted set of its subscribers by expiry time
//
// (without the spaces). The braces are a hash tag: in a Redis Cluster the
// keys of one channel share a slot.
//
// # Publications and history
//
// A publication on a channel with history runs one Lua script that, at
// once, gives the channel an epoch if it has none, increments its offset,
// appends it to the stream capped at the history size, sets the keys'
// TTL, and PUBLISHes it with its offset and epoch: live delivery and
// history always agree. A publication without history is a plain PUBLISH.
// The message on a Redis channel is
//
//	KIND OFFSET ':' EPOCH ':' DATA
//
// with KIND 'd' (data), 'j' (a join) or 'l' (a leave), OFFSET in decimal
// (0 without history) and DATA the MsgPack bytes.
//
// # Faults
//
// The engine reads all its subscriptions over one connection. When it is
// lost, the engine reconnects with exponential backoff and jitter
// ([WithBackoff]) and subscribes to every channel and pattern again. It
// then reads from history, for each channel, the publications it missed
// meanwhile, and delivers them in order before the live ones; when
// history no longer holds them (it is shorter than the gap, or Redis lost
// its data and the channel has a new epoch), the hub's subscriptions see
// the gap in the offsets and end with ERROR 503, and their clients
// subscribe again and learn from the swill-recovered metadata whether
// they could recover. While Redis cannot be reached, Publish, History,
// the presence methods and Subscribe return errors: nothing is lost
// silently. A connection that stops answering is found by a PING every
// health-check interval ([WithHealthCheck]).
//
// Publish runs its script once per call. go-redis retries a command after
// some network errors (Options.MaxRetries); should Redis have run the
// script before the connection broke, the publication is then made
// twice, under two offsets. Set MaxRetries to -1 on the client for
// at-most-once publications.
//
// # Presence
//
// A subscriber's presence entry expires at the TTL the hub asks for
// (pubsub.WithPresenceTTL), measured by Redis's clock; the hub refreshes
// its own entries at a third of it, so the subscribers of a process that
// died leave the list within a TTL.
package redisengine
