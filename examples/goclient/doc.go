// Command goclient calls the demo service (go run ./examples/demo) with
// the Go client, one call of each kind, and prints what comes back.
//
//	go run ./examples/goclient -url ws://127.0.0.1:8080/ws
package main
