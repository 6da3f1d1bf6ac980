// Package redisstore is a [session.Store] on Redis (go-redis v9), shared
// by every node of an application: a client's session follows it when it
// reconnects to another node.
//
//	sessions := session.New(session.WithStore(redisstore.New(rdb)))
//
// A session is a Redis hash under PREFIX+id (prefix "swill:session:" by
// default, see [WithPrefix]), one field per value, plus the empty field
// that marks it as existing, with the session's TTL as the key's expiry.
// Updates run as one Lua script that changes nothing when the session is
// gone, so an expired session never comes back half made.
package redisstore
