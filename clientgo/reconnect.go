package clientgo

import (
	"math/rand/v2"
	"time"
)

// ReconnectPolicy says when the client tries again after losing its
// connection: the n-th attempt (from 0) waits
// min(InitialDelay × Multiplier^n, MaxDelay), spread by ±Jitter of itself
// so that many clients of a restarted server do not all come back at once.
// The zero value is the default policy.
type ReconnectPolicy struct {
	// InitialDelay is the wait before the first attempt. Default 100ms.
	InitialDelay time.Duration
	// MaxDelay caps the wait between attempts. Default 10s.
	MaxDelay time.Duration
	// Multiplier grows the wait after each failed attempt. Default 2;
	// values below 1 are taken as 1.
	Multiplier float64
	// Jitter is the fraction, from 0 to 1, by which each wait is randomly
	// shortened or lengthened. Default 0.2; a negative value means none.
	Jitter float64
	// MaxAttempts is the number of failed attempts after which the client
	// gives up and goes [StateDisconnected]. Default 0: never give up.
	MaxAttempts int
}

func (p ReconnectPolicy) withDefaults() ReconnectPolicy {
	if p.InitialDelay <= 0 {
		p.InitialDelay = 100 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 10 * time.Second
	}
	if p.MaxDelay < p.InitialDelay {
		p.MaxDelay = p.InitialDelay
	}
	if p.Multiplier == 0 {
		p.Multiplier = 2
	}
	if p.Multiplier < 1 {
		p.Multiplier = 1
	}
	switch {
	case p.Jitter == 0:
		p.Jitter = 0.2
	case p.Jitter < 0:
		p.Jitter = 0
	case p.Jitter > 1:
		p.Jitter = 1
	}
	return p
}

// delay returns the wait before attempt n (from 0) of a policy with its
// defaults applied.
func (p ReconnectPolicy) delay(n int) time.Duration {
	d := float64(p.InitialDelay)
	for i := 0; i < n && d < float64(p.MaxDelay); i++ {
		d *= p.Multiplier
	}
	d = min(d, float64(p.MaxDelay))
	if p.Jitter > 0 {
		d *= 1 + p.Jitter*(2*rand.Float64()-1)
	}
	return time.Duration(d)
}
