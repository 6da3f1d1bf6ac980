// Package ctl is the line protocol between the runner and the processes it
// starts. A process writes one JSON [Event] per line on its standard
// output and reads one command per line on its standard input.
//
// The server process prints {"event":"listening","addr":...} first, then
// answers "cpu" with a "cpu" event and "mem" with a "mem" event; "quit" or
// the end of its input stops it.
//
// The client process of a timed scenario prints "ready" once connected and
// warmed up, waits for "go", and prints "result" at the end of its window.
// The client of the idle scenario prints "idle" each time it holds the next
// number of connections and waits for "next" before going on.
package ctl
