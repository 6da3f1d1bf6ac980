// Package peer describes a contender of the benchmark suite: a server that
// serves the suite's echo and stream calls on a listener, and a client that
// calls them over one connection. The peers register themselves from the
// packages under this one; the server and client programs import them all.
package peer
