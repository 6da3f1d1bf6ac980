package wsconn

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/gobwas/ws"

	"github.com/swillorg/swill-go/transport"
)

// Upgrade completes the server side of the WebSocket handshake on w and r
// with gobwas/ws. It checks the Origin header first, as
// github.com/coder/websocket does: a request without one is accepted, a
// same-origin request is accepted, and other origins must match one of
// opts.OriginPatterns unless opts.InsecureSkipVerify is set. The
// subprotocol is the first of opts.Subprotocols that the client offers
// (the server's preference wins), or none.
//
// On failure an HTTP error has been written and the connection, if it was
// hijacked, is closed. On success the caller owns conn; br holds any bytes
// the client sent after its request.
func Upgrade(w http.ResponseWriter, r *http.Request, opts *transport.AcceptOptions) (conn net.Conn, br *bufio.Reader, subprotocol string, err error) {
	if opts == nil {
		opts = &transport.AcceptOptions{}
	}
	if !opts.InsecureSkipVerify {
		if err := checkOrigin(r, opts.OriginPatterns); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return nil, nil, "", err
		}
	}
	subprotocol = selectSubprotocol(r.Header, opts.Subprotocols)
	u := ws.HTTPUpgrader{}
	// The headers set on w before the upgrade (a session cookie that
	// middleware set, say) go out with the 101 response, as with
	// net/http's own responses.
	h := w.Header().Clone()
	if subprotocol != "" {
		if h == nil {
			h = http.Header{}
		}
		// Set by hand: gobwas/ws parses offers as RFC 7230 tokens, which
		// rejects the legacy "swill/1".
		h["Sec-Websocket-Protocol"] = []string{subprotocol}
	}
	if len(h) > 0 {
		u.Header = h
	}
	conn, rw, _, err := u.Upgrade(r, w)
	if err != nil {
		if conn != nil {
			conn.Close()
		}
		return nil, nil, "", fmt.Errorf("transport: websocket upgrade: %w", err)
	}
	return conn, rw.Reader, subprotocol, nil
}

// checkOrigin allows requests without an Origin header, same-origin
// requests and origins whose host (or scheme://host, for patterns holding
// "://") matches one of patterns.
func checkOrigin(r *http.Request, patterns []string) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return fmt.Errorf("transport: malformed Origin header %q", origin)
	}
	if strings.EqualFold(u.Host, r.Host) {
		return nil
	}
	for _, p := range patterns {
		target := u.Host
		if strings.Contains(p, "://") {
			target = u.Scheme + "://" + u.Host
		}
		ok, err := path.Match(strings.ToLower(p), strings.ToLower(target))
		if err != nil {
			return fmt.Errorf("transport: bad origin pattern %q: %w", p, err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("transport: origin %q is not allowed for host %q", u.Host, r.Host)
}

// selectSubprotocol returns the first of accepted that the request
// offers, or "".
func selectSubprotocol(h http.Header, accepted []string) string {
	offered := h.Values("Sec-WebSocket-Protocol")
	for _, a := range accepted {
		for _, v := range offered {
			for _, t := range strings.Split(v, ",") {
				if strings.TrimSpace(t) == a {
					return a
				}
			}
		}
	}
	return ""
}
