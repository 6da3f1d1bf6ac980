// Package redistest gives the project's tests a real Redis server.
//
// [URL] is for ordinary Redis tests: it returns the URL in the environment
// variable SWILL_REDIS_URL (the project's test script sets it to a
// redis-server of its own), or, when that is unset, starts one private
// redis-server for the whole test binary, on a free loopback port, without
// persistence, that is stopped when the test binary exits. Tests sharing it
// (and other packages' tests sharing SWILL_REDIS_URL at the same time) must
// keep to keys and channels of their own, for example prefixed with
// [Prefix].
//
// [Start] is for fault tests: it always starts a private redis-server that
// the test controls, which [Server.Stop] kills and [Server.Restart] starts
// again on the same port, and which is stopped when the test ends.
//
// Both need the redis-server binary on the PATH (Debian's redis-server
// package); without it, and for [URL] without SWILL_REDIS_URL either, the
// test fails saying what to install: a Redis test never skips.
package redistest
