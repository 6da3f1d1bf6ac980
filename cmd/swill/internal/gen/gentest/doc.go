// Package gentest holds the descriptions the generators' tests work on:
// a service whose types use every shape a description can hold.
package gentest
