// Package load drives a peer's client through the suite's scenarios:
// sequential calls for latency, many calls in flight for throughput, one
// long server stream, and many idle connections. Each scenario warms up,
// then waits at a mark for the runner (which samples the server's CPU
// there) before it measures its window.
package load
