package naming

import (
	"strconv"
	"strings"
	"unicode"
)

// Words splits a name into words at every character that is neither a
// letter nor a digit and at each change from lower to upper case
// ("echo_untyped", "getUserID", "pkg.Name").
func Words(s string) []string {
	var words []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = nil
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		if i > 0 && unicode.IsUpper(r) && len(cur) > 0 {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				flush()
			}
		}
		cur = append(cur, r)
	}
	flush()
	return words
}

// initialisms are written in capitals in Go names, as Go's own style has
// them.
var initialisms = map[string]bool{
	"ACL": true, "API": true, "ASCII": true, "CPU": true, "CSS": true, "DNS": true,
	"EOF": true, "GUID": true, "HTML": true, "HTTP": true, "HTTPS": true, "ID": true,
	"IP": true, "JSON": true, "RPC": true, "SQL": true, "SSH": true, "TCP": true,
	"TLS": true, "TTL": true, "UDP": true, "UI": true, "UID": true, "URI": true,
	"URL": true, "UTF8": true, "UUID": true, "XML": true,
}

// GoExported returns an exported Go identifier for s: its words
// capitalised and joined, initialisms in capitals (user_id is UserID), an
// X in front when it would start with a digit, X alone for a name without
// letters or digits.
func GoExported(s string) string {
	var b strings.Builder
	for _, w := range Words(s) {
		if up := strings.ToUpper(w); initialisms[up] {
			b.WriteString(up)
			continue
		}
		rs := []rune(w)
		b.WriteRune(unicode.ToUpper(rs[0]))
		b.WriteString(string(rs[1:]))
	}
	out := b.String()
	if out == "" || unicode.IsDigit([]rune(out)[0]) {
		out = "X" + out
	}
	return out
}

// TSIdentifier returns a TypeScript identifier for s: the words in
// camelCase (lowerCamel when lower is set, UpperCamel otherwise), with an
// underscore in front when it would start with a digit or be a reserved
// word.
func TSIdentifier(s string, lower bool) string {
	var b strings.Builder
	for i, w := range Words(s) {
		rs := []rune(w)
		if i == 0 && lower {
			b.WriteString(strings.ToLower(string(rs[:1])))
		} else {
			b.WriteRune(unicode.ToUpper(rs[0]))
		}
		b.WriteString(string(rs[1:]))
	}
	out := b.String()
	if out == "" || unicode.IsDigit([]rune(out)[0]) || tsReserved[out] {
		out = "_" + out
	}
	return out
}

var tsReserved = map[string]bool{
	"break": true, "case": true, "catch": true, "class": true, "const": true, "continue": true,
	"debugger": true, "default": true, "delete": true, "do": true, "else": true, "enum": true,
	"export": true, "extends": true, "false": true, "finally": true, "for": true, "function": true,
	"if": true, "import": true, "in": true, "instanceof": true, "new": true, "null": true,
	"return": true, "super": true, "switch": true, "this": true, "throw": true, "true": true,
	"try": true, "typeof": true, "var": true, "void": true, "while": true, "with": true,
	"implements": true, "interface": true, "let": true, "package": true, "private": true,
	"protected": true, "public": true, "static": true, "yield": true, "await": true,
	"any": true, "boolean": true, "number": true, "string": true, "symbol": true,
	"unknown": true, "never": true, "object": true, "undefined": true,
}

// Set hands out unique names: the first request for a name gets it, later
// ones get it with 2, 3, ... appended.
type Set map[string]bool

// Unique returns name, or name with the smallest number from 2 appended
// that is not taken yet, and takes it.
func (s Set) Unique(name string) string {
	out := name
	for i := 2; s[out]; i++ {
		out = name + strconv.Itoa(i)
	}
	s[out] = true
	return out
}

// GlobStem returns a channel pattern without its glob parts (*, ?, sets
// in brackets; an escaped byte stays), to name what the generators
// declare for it: "chat.*" gives "chat.", "user.[0-9]*" gives "user.".
func GlobStem(pattern string) string {
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*', '?':
		case '[':
			for i++; i < len(pattern) && pattern[i] != ']'; i++ {
				if pattern[i] == '\\' {
					i++
				}
			}
		case '\\':
			if i+1 < len(pattern) {
				i++
				b.WriteByte(pattern[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
