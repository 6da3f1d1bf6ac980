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

func TestReadings(t *testing.T) {
	before, err := ReadCPU()
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	after, err := ReadCPU()
	if err != nil {
		t.Fatal(err)
	}
	if d := after.Sub(before).Total(); d < 10*time.Millisecond {
		t.Errorf("30ms of spinning measured as %v of CPU", d)
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
