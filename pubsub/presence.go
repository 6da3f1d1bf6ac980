package pubsub

import (
	"context"
	"time"
)

// addPresence records a subscriber in the engine and keeps the entry
// alive, refreshing it at a third of the presence TTL while it lasts.
func (h *Hub) addPresence(ctx context.Context, channel, client string, info []byte) {
	if err := h.engine.AddPresence(ctx, channel, client, info, h.presTTL); err != nil {
		h.log.Warn("pubsub: adding presence failed", "channel", channel, "err", err)
	}
	h.presMu.Lock()
	defer h.presMu.Unlock()
	if h.closed {
		return
	}
	h.pres[presKey{channel, client}] = info
	if h.presStop == nil {
		h.presStop, h.presDone = make(chan struct{}), make(chan struct{})
		go h.refreshPresence(h.presStop, h.presDone)
	}
}

func (h *Hub) removePresence(ctx context.Context, channel, client string) {
	h.presMu.Lock()
	delete(h.pres, presKey{channel, client})
	h.presMu.Unlock()
	if err := h.engine.RemovePresence(ctx, channel, client); err != nil {
		h.log.Warn("pubsub: removing presence failed", "channel", channel, "err", err)
	}
}

// refreshPresence is the goroutine that keeps this process's presence
// entries alive; Close stops it.
func (h *Hub) refreshPresence(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(h.presTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		h.presMu.Lock()
		entries := make(map[presKey][]byte, len(h.pres))
		for k, v := range h.pres {
			entries[k] = v
		}
		h.presMu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), h.presTTL/3)
		for k, info := range entries {
			if err := h.engine.AddPresence(ctx, k.channel, k.client, info, h.presTTL); err != nil {
				h.log.Warn("pubsub: refreshing presence failed", "channel", k.channel, "err", err)
				break
			}
		}
		cancel()
	}
}
