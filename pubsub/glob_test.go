package pubsub

import "testing"

func TestMatch(t *testing.T) {
	cases := []struct {
		pattern, name string
		want          bool
	}{
		{"chat.*", "chat.lobby", true},
		{"chat.*", "chat.", true},
		{"chat.*", "chat", false},
		{"chat.*", "chat.a.b", true},
		{"*", "", true},
		{"*", "anything", true},
		{"", "", true},
		{"", "a", false},
		{"h?llo", "hello", true},
		{"h?llo", "hllo", false},
		{"h*llo", "hllo", true},
		{"h*llo", "heeeello", true},
		{"h*llo", "hellox", false},
		{"h[ae]llo", "hallo", true},
		{"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true},
		{"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true},
		{"h[a-b]llo", "hcllo", false},
		{"h[b-a]llo", "hallo", true}, // Redis swaps a reversed range
		{`h\*llo`, "h*llo", true},
		{`h\*llo`, "hello", false},
		{`a[\]]b`, "a]b", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"*.*.x", "a.b.x", true},
		{"user.[0-9]*", "user.42", true},
		{"user.[0-9]*", "user.x", false},
		{"a**", "a", true},
		{"[abc", "b", true}, // unterminated set: its bytes up to the end
	}
	for _, c := range cases {
		if got := Match(c.pattern, c.name); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.name, got, c.want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("a*b?[c-d]\\e", "axxbzce")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		Match(pattern, name) // must not panic or loop
		if !isPattern(pattern) && Match(pattern, name) != (pattern == name) {
			t.Fatalf("plain pattern %q against %q", pattern, name)
		}
	})
}
