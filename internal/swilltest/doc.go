// Package swilltest starts swill servers over real loopback sockets for
// the project's tests, and speaks raw frames to them.
package swilltest
