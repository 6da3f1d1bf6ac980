// Package wstest speaks raw WebSocket for tests: a handshake written by
// hand and frames built byte by byte, to send what well-behaved
// implementations never would.
package wstest
