// Command benchserver is the server process of the benchmark suite. The
// runner (benchrun) starts it; it is not meant to be run by hand.
//
//	benchserver -peer NAME [-listen 127.0.0.1:0] [-cpuprofile F] [-memprofile F]
//	benchserver -list
//
// It serves peer NAME's server, prints {"event":"listening","addr":...} on
// standard output, then answers the commands of package ctl read from
// standard input ("cpu", "mem"); "quit" or the end of input stops it,
// after writing the profiles asked for.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime/pprof"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/peer"
	_ "github.com/swillorg/swill-go/bench/internal/peer/all"
	"github.com/swillorg/swill-go/bench/internal/procstat"
)

func main() {
	name := flag.String("peer", "", "server to run: the Server name of a peer")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	list := flag.Bool("list", false, "print the compiled-in peers as JSON and exit")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile to this file on exit")
	flag.Parse()
	if *list {
		printPeers()
		return
	}
	if err := run(*name, *listen, *cpuProfile, *memProfile); err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(1)
	}
}

func printPeers() {
	json.NewEncoder(os.Stdout).Encode(peer.Infos())
}

func run(name, listen, cpuProfile, memProfile string) error {
	p, ok := peer.LookupServer(name)
	if !ok {
		return fmt.Errorf("no server named %q", name)
	}
	if _, err := procstat.RaiseFileLimit(); err != nil {
		return err
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	srv, err := p.NewServer()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	out := ctl.NewWriter(os.Stdout)
	if err := out.Write(ctl.Event{Event: ctl.EventListening, Addr: ln.Addr().String()}); err != nil {
		return err
	}
	cmds := ctl.Commands(os.Stdin)
	for cmds.Scan() {
		var ev ctl.Event
		switch cmd := cmds.Text(); cmd {
		case ctl.CmdCPU:
			cpu, err := procstat.ReadCPU()
			if err != nil {
				return err
			}
			ev = ctl.Event{Event: ctl.EventCPU, CPU: &cpu}
		case ctl.CmdMem:
			mem, err := procstat.ReadMemory()
			if err != nil {
				return err
			}
			ev = ctl.Event{Event: ctl.EventMem, Mem: &mem}
		case ctl.CmdQuit:
			return stop(srv, serveErr, memProfile)
		default:
			return fmt.Errorf("unknown command %q", cmd)
		}
		if err := out.Write(ev); err != nil {
			return err
		}
	}
	return stop(srv, serveErr, memProfile)
}

func stop(srv peer.Server, serveErr chan error, memProfile string) error {
	if memProfile != "" {
		f, err := os.Create(memProfile)
		if err != nil {
			return err
		}
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	if err := srv.Close(); err != nil {
		return err
	}
	return <-serveErr
}
