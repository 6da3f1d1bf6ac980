package procstat

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"
)

// CPU is the CPU time a process has used, and the read and write system
// calls it has made (syscr and syscw of /proc/self/io), which show how many
// messages each system call carries.
type CPU struct {
	User   time.Duration `json:"user_ns"`
	Sys    time.Duration `json:"sys_ns"`
	Reads  uint64        `json:"reads"`
	Writes uint64        `json:"writes"`
}

// Total is user plus system time.
func (c CPU) Total() time.Duration { return c.User + c.Sys }

// Sub returns c minus earlier.
func (c CPU) Sub(earlier CPU) CPU {
	return CPU{User: c.User - earlier.User, Sys: c.Sys - earlier.Sys, Reads: c.Reads - earlier.Reads, Writes: c.Writes - earlier.Writes}
}

// Add returns c plus o.
func (c CPU) Add(o CPU) CPU {
	return CPU{User: c.User + o.User, Sys: c.Sys + o.Sys, Reads: c.Reads + o.Reads, Writes: c.Writes + o.Writes}
}

// ReadCPU returns the CPU time of this process, all threads, from
// getrusage(RUSAGE_SELF), and its system call counts from /proc/self/io.
func ReadCPU() (CPU, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return CPU{}, err
	}
	c := CPU{
		User: time.Duration(ru.Utime.Nano()),
		Sys:  time.Duration(ru.Stime.Nano()),
	}
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return CPU{}, err
	}
	c.Reads, c.Writes, err = parseIO(b)
	return c, err
}

func parseIO(b []byte) (reads, writes uint64, err error) {
	found := 0
	for _, line := range bytes.Split(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		var dst *uint64
		switch string(k) {
		case "syscr":
			dst = &reads
		case "syscw":
			dst = &writes
		default:
			continue
		}
		n, perr := strconv.ParseUint(string(bytes.TrimSpace(v)), 10, 64)
		if perr != nil {
			return 0, 0, fmt.Errorf("procstat: /proc/self/io %s: %w", k, perr)
		}
		*dst = n
		found++
	}
	if found != 2 {
		return 0, 0, fmt.Errorf("procstat: no syscr and syscw in /proc/self/io")
	}
	return reads, writes, nil
}

// Memory is a snapshot of a process's memory.
type Memory struct {
	// RSS is the resident set size (VmRSS of /proc/self/status).
	RSS uint64 `json:"rss"`
	// HeapAlloc is the live Go heap: bytes of allocated heap objects
	// right after a garbage collection.
	HeapAlloc uint64 `json:"heap_alloc"`
	// HeapInuse is the bytes in in-use heap spans.
	HeapInuse uint64 `json:"heap_inuse"`
	// StackInuse is the bytes of goroutine stacks.
	StackInuse uint64 `json:"stack_inuse"`
	// Goroutines is the number of goroutines.
	Goroutines int `json:"goroutines"`
}

// ReadMemory collects garbage, returns freed memory to the operating
// system, then measures, so that the figures are the live footprint and
// not garbage waiting for the next cycle.
func ReadMemory() (Memory, error) {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	rss, err := ReadRSS()
	if err != nil {
		return Memory{}, err
	}
	return Memory{
		RSS:        rss,
		HeapAlloc:  ms.HeapAlloc,
		HeapInuse:  ms.HeapInuse,
		StackInuse: ms.StackInuse,
		Goroutines: runtime.NumGoroutine(),
	}, nil
}

// ReadRSS returns VmRSS from /proc/self/status, in bytes.
func ReadRSS() (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	return parseRSS(b)
}

func parseRSS(status []byte) (uint64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		line := sc.Bytes()
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("procstat: unexpected VmRSS line %q", line)
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("procstat: VmRSS: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("procstat: no VmRSS line in /proc/self/status")
}

// RaiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit and
// returns the new limit. Raising the hard limit needs a privilege the
// process usually lacks, so the hard limit caps how many connections one
// process can hold.
func RaiseFileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return 0, err
		}
	}
	return rl.Cur, nil
}

// clockTick is the unit of /proc/stat: USER_HZ, 100 on every Linux
// architecture the suite runs on.
const clockTick = 10 * time.Millisecond

// Machine is the CPU time of the whole machine, all cores, from the first
// line of /proc/stat.
type Machine struct {
	// Busy is the time spent in anything but idle and iowait.
	Busy time.Duration
	// Total is Busy plus idle time: the cores times the elapsed time.
	Total time.Duration
}

// ReadMachine reads the machine's CPU time.
func ReadMachine() (Machine, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return Machine{}, err
	}
	return parseStat(b)
}

func parseStat(b []byte) (Machine, error) {
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return Machine{}, fmt.Errorf("procstat: unexpected /proc/stat line %q", line)
	}
	var m Machine
	for i, v := range f[1:] {
		if i >= 8 { // guest time is already counted in user time
			break
		}
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return Machine{}, fmt.Errorf("procstat: /proc/stat: %w", err)
		}
		d := time.Duration(n) * clockTick
		m.Total += d
		if i != 3 && i != 4 { // idle, iowait
			m.Busy += d
		}
	}
	return m, nil
}

// Sub returns m minus earlier.
func (m Machine) Sub(earlier Machine) Machine {
	return Machine{Busy: m.Busy - earlier.Busy, Total: m.Total - earlier.Total}
}

// Share returns the fraction of the machine's CPU that busy represents
// over m.
func (m Machine) Share(busy time.Duration) float64 {
	if m.Total <= 0 {
		return 0
	}
	return float64(max(busy, 0)) / float64(m.Total)
}
