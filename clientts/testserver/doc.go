// Command testserver serves the demo service and a pub/sub hub with
// test controls (pstest.*, see pubsub.go) at /ws, and the files of a
// directory at /, on one origin, for the TypeScript client's browser and
// pub/sub tests:
//
//	go run ./clientts/testserver -dir path/to/page [-addr 127.0.0.1:0]
//
// The first line of stdout is the page's URL (http://ADDR/). The swill
// endpoint keeps the default origin check, so the page must be loaded
// from this server. It stops on SIGINT or SIGTERM.
package main
