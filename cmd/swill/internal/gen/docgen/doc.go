// Package docgen writes the reference documentation of a swill service
// from its description, as Markdown or as a standalone HTML page: every
// call with its kind, doc string, request and response types, declared
// errors and an example request, then every named type with its fields
// and their constraints.
package docgen
