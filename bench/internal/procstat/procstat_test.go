package procstat

import (
	"testing"
	"time"
)

func TestParseRSS(t *testing.T) {
	got, err := parseRSS([]byte("Name:\tx\nVmPeak:\t  100 kB\nVmRSS:\t   2048 kB\nThreads: 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got != 2048*1024 {
		t.Errorf("parseRSS = %d, want %d", got, 2048*1024)
	}
	if _, err := parseRSS([]byte("Name:\tx\n")); err == nil {
		t.Error("parseRSS accepted a status without VmRSS")
	}
}

func TestParseIO(t *testing.T) {
	r, w, err := parseIO([]byte("rchar: 10\nwchar: 20\nsyscr: 3\nsyscw: 4\nread_bytes: 0\n"))
	if err != nil || r != 3 || w != 4 {
		t.Errorf("parseIO = %d, %d, %v; want 3, 4, nil", r, w, err)
	}
	if _, _, err := parseIO([]byte("rchar: 10\n")); err == nil {
		t.Error("parseIO accepted a file without syscr and syscw")
	}
}

func TestReadings(t *testing.T) {
	before, err := ReadCPU()
	if err != nil {
		t.Fatal(err)
	}
	// Spin until the readings show 20ms of CPU: on a loaded machine the
	// spinning thread gets a fraction of the wall time, so it is the
	// readings that must move, within a generous wall time.
	deadline := time.Now().Add(20 * time.Second)
	var after CPU
	for {
		for spin := time.Now().Add(5 * time.Millisecond); time.Now().Before(spin); {
		}
		if after, err = ReadCPU(); err != nil {
			t.Fatal(err)
		}
		if after.Sub(before).Total() >= 20*time.Millisecond {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("20s of spinning measured as %v of CPU", after.Sub(before).Total())
		}
	}
	mid, err := ReadCPU() // reading /proc/self/io is itself a read
	if err != nil {
		t.Fatal(err)
	}
	if mid.Reads <= before.Reads {
		t.Errorf("read system calls did not increase: %d then %d", before.Reads, mid.Reads)
	}
	m, err := ReadMemory()
	if err != nil {
		t.Fatal(err)
	}
	if m.RSS < 1<<20 || m.HeapAlloc == 0 || m.Goroutines < 1 || m.RSS < m.HeapAlloc {
		t.Errorf("implausible memory reading %+v", m)
	}
	n, err := RaiseFileLimit()
	if err != nil {
		t.Fatal(err)
	}
	if n < 64 {
		t.Errorf("file limit %d", n)
	}
}

func TestParseStat(t *testing.T) {
	m, err := parseStat([]byte("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 1 2 3\n"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Busy != 150*clockTick || m.Total != 1000*clockTick {
		t.Errorf("parseStat = %+v", m)
	}
	if got := m.Share(m.Busy); got != 0.15 {
		t.Errorf("Share = %v, want 0.15", got)
	}
	if _, err := parseStat([]byte("intr 1 2\n")); err == nil {
		t.Error("parseStat accepted a file without the cpu line")
	}
	if _, err := ReadMachine(); err != nil {
		t.Error(err)
	}
}
