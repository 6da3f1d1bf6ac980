package suite

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/swillorg/swill-go/bench/internal/ctl"
)

// proc is a child process speaking the ctl protocol. One goroutine reads
// its events until its output ends, then reaps it.
type proc struct {
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	events chan ctl.Event // closed when the output ends
	stderr *tailBuffer
	exited chan struct{} // closed once reaped; then err is set
	err    error
}

// startProc starts path with args.
func startProc(path string, args ...string) (*proc, error) {
	cmd := exec.Command(path, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p := &proc{
		name:   filepath.Base(path),
		cmd:    cmd,
		stdin:  stdin,
		events: make(chan ctl.Event, 64),
		stderr: &tailBuffer{max: 8 << 10},
		exited: make(chan struct{}),
	}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		r := ctl.NewReader(stdout)
		var readErr error
		for {
			e, err := r.Read()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					readErr = err
					io.Copy(io.Discard, stdout)
				}
				break
			}
			p.events <- e
		}
		close(p.events)
		p.err = cmd.Wait()
		if p.err == nil {
			p.err = readErr
		}
		close(p.exited)
	}()
	return p, nil
}

// send writes one command line.
func (p *proc) send(cmd string) error {
	if _, err := io.WriteString(p.stdin, cmd+"\n"); err != nil {
		return p.fail(fmt.Errorf("sending %q: %w", cmd, err))
	}
	return nil
}

// expect waits up to timeout for the next event, which must be of kind
// want.
func (p *proc) expect(want string, timeout time.Duration) (ctl.Event, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case e, ok := <-p.events:
		if !ok {
			<-p.exited
			return e, p.fail(fmt.Errorf("exited (%v) while waiting for %q", p.err, want))
		}
		if e.Event != want {
			return e, p.fail(fmt.Errorf("got event %q, want %q", e.Event, want))
		}
		return e, nil
	case <-t.C:
		p.kill()
		return ctl.Event{}, p.fail(fmt.Errorf("no %q within %v", want, timeout))
	}
}

// fail decorates err with the process's name and the end of its stderr.
func (p *proc) fail(err error) error {
	if tail := strings.TrimSpace(p.stderr.String()); tail != "" {
		return fmt.Errorf("%s: %w; stderr: %s", p.name, err, tail)
	}
	return fmt.Errorf("%s: %w", p.name, err)
}

// wait waits up to timeout for the process to end on its own, then kills
// it.
func (p *proc) wait(timeout time.Duration) error {
	p.stdin.Close()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		p.kill()
		<-p.exited
		return p.fail(fmt.Errorf("did not exit within %v", timeout))
	}
	if p.err != nil {
		return p.fail(p.err)
	}
	return nil
}

// kill ends the process (only this one, by its pid) and waits for it.
func (p *proc) kill() {
	p.cmd.Process.Kill()
	p.stdin.Close()
	for range p.events {
	}
	<-p.exited
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
