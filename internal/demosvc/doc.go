// Package demosvc is the demo service: the handlers of the reference
// Swill demo, with the same names, order and behaviour, written as
// ordinary typed Go functions. The demo server, the tests and the
// benchmarks all serve it.
package demosvc
