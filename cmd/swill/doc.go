// Command swill is the command-line tool of swill/1 services: it lists and
// describes a service's calls, makes calls with JSON in and out, and
// writes typed clients and reference docs from the service's description.
//
// Install it with:
//
//	go install github.com/swillorg/swill-go/cmd/swill@latest
//
// Usage:
//
//	swill list     [flags] SOURCE              the calls, one per line
//	swill describe [flags] SOURCE [CALL]       the description (JSON Schema) as JSON
//	swill call     [flags] URL CALL [JSON|-]   make a call
//	swill sub      [flags] URL CHANNEL         print a channel's publications
//	swill pub      [flags] URL CHANNEL [JSON]  publish a message
//	swill gen ts   [flags] SOURCE              a typed TypeScript client
//	swill gen go   [flags] SOURCE              a typed Go client
//	swill docs     [flags] SOURCE              a Markdown or HTML reference
//
// SOURCE is a server's URL (ws://host:port/path) or a description saved
// with "swill describe" ("-" reads standard input). The description comes
// from the built-in call swill.describe; a server that has none (the
// reference Python Swill) is described from swill.introspect instead,
// which has no doc strings and no declared errors, and a note on standard
// error says so.
//
// # Calls
//
// "swill call" sends the JSON argument, or -d's, as the request (null when
// there is none; standard input for "-" and "-d @-", a file for "-d
// @FILE"). Client and bidirectional streams read their items from
// standard input (or -d's data), one JSON value per line, and send each
// as soon as it is read; a server stream prints one JSON value per line as
// its items arrive, and ends with status 3 if the connection is lost before
// the server's END_OF_STREAM. -H key=value or -H "key: value" adds request
// metadata (repeatable; the value is JSON when it parses, a string
// otherwise), -v prints the leading
// and trailing metadata on standard error, -timeout sets the call's
// deadline, which the server is told (swill-timeout-ms). Ctrl-C cancels
// the call: the server is sent CANCEL.
//
// JSON becomes MsgPack with integers as integers and other numbers as
// floats; where the call's schema says bytes or a time, base64 and RFC
// 3339 strings become MsgPack bin and timestamps. Results are written back
// with binary data in base64 and non-string map keys as strings.
//
// # Publish/subscribe
//
// "swill sub" subscribes to a channel of a server with package pubsub
// mounted (-pattern: to a glob of channels, -since OFFSET:EPOCH: from a
// position, recovering what followed it) and prints each publication as
// one line of JSON until Ctrl-C, which ends it with status 0; -n N exits
// after N. An end for any other reason fails as a call would, with the
// -since to resume from on standard error. "swill pub" publishes one
// message (the JSON argument, "-" or -d) and prints its position.
//
// # Exit status
//
//	0       success
//	1       the server answered with an error whose code is outside 400..519
//	2       bad usage or input: flags, arguments, JSON, an unknown call
//	3       no connection, or it was lost (a stream cut off included)
//	4       the -timeout deadline passed
//	5       any other failure (a file that cannot be read or written)
//	10-129  the server answered with an error of code status+390 (404: 14)
//	130     interrupted (Ctrl-C); the call was cancelled
//
// A server's error is printed on standard error for people, then as the
// line "swill-error: " followed by {"code": ..., "message": ..., "data":
// ...} in JSON, for programs.
//
// See docs/cli.md and docs/codegen.md in the repository for examples.
package main
