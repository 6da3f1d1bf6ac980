// Package svcdesc obtains and reads the description of a swill service,
// for the swill command and the code and documentation generators.
//
// [Fetch] asks a live server: swill.describe when the server has it
// (swill-go servers), otherwise swill.introspect (the reference Swill
// server), whose items [FromEntries] turns into the same
// [introspect.Document], types as JSON Schema. [Load] reads a document
// saved with "swill describe". [Only] cuts a document down to one call.
//
// The schema helpers read the JSON Schemas of a document: [Resolve]
// follows "$ref", [TypeString] writes a schema in a short notation for
// listings and docs, and [Example] builds a value that fits a schema, to
// prefill requests and illustrate docs.
package svcdesc
