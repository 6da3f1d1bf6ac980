// Package typeinfo answers the questions about Go types that several swill
// packages share: under which name a struct field travels on the wire, and
// in which order map keys and paths through maps are walked and reported.
package typeinfo
