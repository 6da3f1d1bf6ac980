// Package naming turns the names of a swill service (call names, field
// names, definition names) into identifiers of the languages the
// generators write.
package naming
