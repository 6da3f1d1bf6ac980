// Package payload defines the message every peer of the benchmark suite
// carries, and the work every server does with it, so that the peers are
// compared on the same bytes and the same work.
package payload
