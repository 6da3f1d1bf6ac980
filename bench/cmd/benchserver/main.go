// Command benchserver is the server process of the benchmark suite. The
// runner (benchrun) starts it; it is not meant to be run by hand.
//
//	benchserver -peer NAME [-listen 127.0.0.1:0] [-cpuprofile F] [-memprofile F]
//	benchserver -pubsub NAME [-redis HOST:PORT] [-listen ...] [-cpuprofile F] [-memprofile F]
//	benchserver -list
//
// It serves peer NAME's server (or pub/sub peer NAME's, of package
// psbench, on its in-process engine or through the Redis at -redis), prints
// {"event":"listening","addr":...} on standard output, then answers the
// commands of package ctl read from standard input ("cpu", "mem", "heap FILE", and for
// a pub/sub server "publish PHASE COUNT INTERVAL"); "quit" or the end of
// input stops it, after writing the profiles asked for.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/swillorg/swill-go/bench/internal/ctl"
	"github.com/swillorg/swill-go/bench/internal/peer"
	_ "github.com/swillorg/swill-go/bench/internal/peer/all"
	"github.com/swillorg/swill-go/bench/internal/procstat"
	"github.com/swillorg/swill-go/bench/internal/psbench"
)

func main() {
	name := flag.String("peer", "", "server to run: the Server name of a peer")
	pubsubName := flag.String("pubsub", "", "pub/sub server to run instead: the name of a pub/sub peer")
	redisAddr := flag.String("redis", "", "pub/sub: the Redis (host:port) the server's engine goes through")
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	list := flag.Bool("list", false, "print the compiled-in peers as JSON and exit")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memProfile := flag.String("memprofile", "", "write an allocation profile to this file on exit")
	flag.Parse()
	if *list {
		printPeers()
		return
	}
	if err := run(*name, *pubsubName, *redisAddr, *listen, *cpuProfile, *memProfile); err != nil {
		fmt.Fprintln(os.Stderr, "benchserver:", err)
		os.Exit(1)
	}
}

func printPeers() {
	json.NewEncoder(os.Stdout).Encode(peer.Infos())
}

// server is what a benchserver serves: an RPC peer's server, or a pub/sub
// peer's, which can also publish.
type server interface {
	Serve(ln net.Listener) error
	Close() error
}

func newServer(name, pubsubName, redisAddr string) (server, error) {
	if pubsubName != "" {
		p, ok := psbench.Lookup(pubsubName)
		if !ok {
			return nil, fmt.Errorf("no pub/sub peer named %q", pubsubName)
		}
		return p.NewServer(redisAddr)
	}
	p, ok := peer.LookupServer(name)
	if !ok {
		return nil, fmt.Errorf("no server named %q", name)
	}
	return p.NewServer()
}

func run(name, pubsubName, redisAddr, listen, cpuProfile, memProfile string) error {
	if pubsubName == "" {
		if _, ok := peer.LookupServer(name); !ok {
			return fmt.Errorf("no server named %q", name)
		}
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
	srv, err := newServer(name, pubsubName, redisAddr)
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
			if f := strings.Fields(cmd); len(f) == 2 && f[0] == ctl.CmdHeap {
				if err := writeHeap(f[1]); err != nil {
					return err
				}
				ev = ctl.Event{Event: ctl.EventMem}
				break
			}
			ps, ok := srv.(psbench.Server)
			if f := strings.Fields(cmd); ok && len(f) == 4 && f[0] == ctl.CmdPublish {
				ev = publish(ps, f[1:])
				break
			}
			return fmt.Errorf("unknown command %q", cmd)
		}
		if err := out.Write(ev); err != nil {
			return err
		}
	}
	return stop(srv, serveErr, memProfile)
}

// writeHeap writes a profile of the live heap, after a collection.
func writeHeap(path string) error {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// publish runs "publish PHASE COUNT INTERVAL".
func publish(s psbench.Server, args []string) ctl.Event {
	phase, err1 := strconv.ParseUint(args[0], 10, 8)
	count, err2 := strconv.Atoi(args[1])
	interval, err3 := time.ParseDuration(args[2])
	ev := ctl.Event{Event: ctl.EventPublished}
	if err := errors.Join(err1, err2, err3); err != nil {
		ev.Error = err.Error()
		return ev
	}
	if err := psbench.PublishAt(context.Background(), s, uint8(phase), count, interval); err != nil {
		ev.Error = err.Error()
	}
	return ev
}

func stop(srv server, serveErr chan error, memProfile string) error {
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
