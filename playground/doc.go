// Package playground serves a service's docs and playground: a web page
// that lists every call of a swill server with its doc string, kind,
// types and declared errors, and lets its reader make the calls from the
// browser. The request is edited as JSON, prefilled with an example built
// from the call's JSON Schema; metadata and a timeout can be added;
// results, stream items, metadata and errors (with their data) appear as
// they arrive; items are sent one by one into client and bidirectional
// streams, which can be ended or cancelled.
//
// Mount the [Handler] on a subtree of the same server as the swill
// endpoint:
//
//	mux.Handle("/ws", srv)
//	mux.Handle("/docs/", playground.Handler(srv))
//
// The page needs nothing beyond the server: its HTML, CSS and script are
// embedded in the binary, the script holds the TypeScript client, and the
// description is served next to the page (describe.json). Every URL the
// page uses is relative to it, so it works under any path prefix, behind
// a proxy that strips one too. By default it connects to "../ws",
// relative to the page: the endpoint at /ws for a page at /docs/, at
// /api/ws for a page at /api/docs/; [WithEndpoint] changes it, and the
// reader can too, in the page.
//
// The page is a tool for developers: anyone who can load it sees the
// description of the service and can call it (as they could with any
// client). Serve it only where that is wanted, behind the same
// authentication as the endpoint.
package playground
