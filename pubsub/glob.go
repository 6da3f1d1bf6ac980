package pubsub

// Match reports whether name matches pattern, a glob as Redis's PSUBSCRIBE
// reads it:
//
//   - any run of bytes, including none (and including '.')
//     ?      any single byte
//     [abc]  one byte of the set; [^abc] one byte not in it; [a-z] a range
//     \x     the byte x itself (to match a literal *, ?, [ or \)
//
// Matching is byte-wise and case-sensitive. An unterminated set matches
// its bytes up to the end of the pattern, as in Redis.
func Match(pattern, name string) bool {
	p, n := 0, 0
	// The position after the last '*' and the name position it matched
	// up to, to backtrack to when the rest fails.
	star, starN := -1, 0
	for n < len(name) {
		if p < len(pattern) {
			switch c := pattern[p]; c {
			case '*':
				for p < len(pattern) && pattern[p] == '*' {
					p++
				}
				if p == len(pattern) {
					return true
				}
				star, starN = p, n
				continue
			case '?':
				p++
				n++
				continue
			case '[':
				if end, ok := matchSet(pattern, p, name[n]); ok {
					p = end
					n++
					continue
				}
			case '\\':
				if p+1 < len(pattern) {
					if pattern[p+1] == name[n] {
						p += 2
						n++
						continue
					}
				} else if c == name[n] {
					p++
					n++
					continue
				}
			default:
				if c == name[n] {
					p++
					n++
					continue
				}
			}
		}
		if star < 0 {
			return false
		}
		starN++
		p, n = star, starN
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchSet matches b against the set starting at pattern[p] == '['. It
// returns the index after the set and whether b is in it.
func matchSet(pattern string, p int, b byte) (int, bool) {
	p++
	negate := p < len(pattern) && pattern[p] == '^'
	if negate {
		p++
	}
	in := false
	for p < len(pattern) && pattern[p] != ']' {
		c := pattern[p]
		switch {
		case c == '\\' && p+1 < len(pattern):
			if pattern[p+1] == b {
				in = true
			}
			p += 2
		case p+2 < len(pattern) && pattern[p+1] == '-' && pattern[p+2] != ']':
			lo, hi := c, pattern[p+2]
			if lo > hi {
				lo, hi = hi, lo
			}
			if lo <= b && b <= hi {
				in = true
			}
			p += 3
		default:
			if c == b {
				in = true
			}
			p++
		}
	}
	if p < len(pattern) {
		p++ // the closing ']'
	}
	return p, in != negate
}

// isPattern reports whether s holds any byte Match treats specially.
func isPattern(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', '\\':
			return true
		}
	}
	return false
}
