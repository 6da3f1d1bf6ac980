package svcdesc

import "github.com/swillorg/swill-go/introspect"

// ChannelOf returns the declaration of doc that covers the channel called
// name, as the server chooses it: the first whose pattern is name, or is
// a glob name matches. It returns nil when none does (the channel is then
// untyped, or refused by a strict server).
func ChannelOf(doc *introspect.Document, name string) *introspect.Channel {
	for i := range doc.Channels {
		c := &doc.Channels[i]
		if c.Pattern == name || (c.Glob && MatchGlob(c.Pattern, name)) {
			return c
		}
	}
	return nil
}

// MatchGlob reports whether name matches pattern as a channel glob:
// Redis's PSUBSCRIBE patterns, which the server's pub/sub reads ("*" any
// run of bytes, "?" one byte, "[a-z]" and "[^abc]" sets, "\x" the byte x).
// Matching is byte-wise.
func MatchGlob(pattern, name string) bool {
	if pattern == "" {
		return name == ""
	}
	switch c := pattern[0]; c {
	case '*':
		for i := 0; i <= len(name); i++ {
			if MatchGlob(pattern[1:], name[i:]) {
				return true
			}
		}
		return false
	case '?':
		return name != "" && MatchGlob(pattern[1:], name[1:])
	case '[':
		if name == "" {
			return false
		}
		rest, in := globSet(pattern[1:], name[0])
		return in && MatchGlob(rest, name[1:])
	case '\\':
		if len(pattern) > 1 {
			c = pattern[1]
			pattern = pattern[1:]
		}
		fallthrough
	default:
		return name != "" && name[0] == c && MatchGlob(pattern[1:], name[1:])
	}
}

// globSet reads the set after a '[' and returns the pattern after it and
// whether b is in it. An unterminated set runs to the end of the pattern.
func globSet(p string, b byte) (rest string, in bool) {
	negate := p != "" && p[0] == '^'
	if negate {
		p = p[1:]
	}
	for p != "" && p[0] != ']' {
		switch {
		case p[0] == '\\' && len(p) > 1:
			in = in || p[1] == b
			p = p[2:]
		case len(p) > 2 && p[1] == '-' && p[2] != ']':
			lo, hi := p[0], p[2]
			if lo > hi {
				lo, hi = hi, lo
			}
			in = in || (lo <= b && b <= hi)
			p = p[3:]
		default:
			in = in || p[0] == b
			p = p[1:]
		}
	}
	if p != "" {
		p = p[1:]
	}
	return p, in != negate
}
