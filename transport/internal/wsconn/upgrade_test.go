package wsconn

import (
	"net/http"
	"testing"
)

func TestCheckOrigin(t *testing.T) {
	cases := []struct {
		origin   string
		patterns []string
		ok       bool
	}{
		{"", nil, true},
		{"http://example.com", nil, true}, // same host
		{"https://EXAMPLE.com", nil, true},
		{"http://evil.example", nil, false},
		{"http://app.other.net", []string{"*.other.net"}, true},
		{"http://other.net", []string{"*.other.net"}, false},
		{"https://app.other.net", []string{"https://*.other.net"}, true},
		{"http://app.other.net", []string{"https://*.other.net"}, false},
		{"not a url\x7f", nil, false},
		{"null", nil, false},
		{"http://evil.example", []string{"["}, false}, // bad pattern
	}
	for _, tc := range cases {
		r := &http.Request{Host: "example.com", Header: http.Header{}}
		if tc.origin != "" {
			r.Header.Set("Origin", tc.origin)
		}
		err := checkOrigin(r, tc.patterns)
		if (err == nil) != tc.ok {
			t.Errorf("Origin %q, patterns %q: %v", tc.origin, tc.patterns, err)
		}
	}
}

func TestSelectSubprotocol(t *testing.T) {
	server := []string{"swill.v1", "swill/1"}
	cases := []struct {
		offered []string
		want    string
	}{
		{nil, ""},
		{[]string{"swill/1, swill.v1"}, "swill.v1"},
		{[]string{"swill/1", "swill.v1"}, "swill.v1"},
		{[]string{"swill/1"}, "swill/1"},
		{[]string{" swill/1 ,other"}, "swill/1"},
		{[]string{"other, SWILL.V1"}, ""},
	}
	for _, tc := range cases {
		h := http.Header{"Sec-Websocket-Protocol": tc.offered}
		if got := selectSubprotocol(h, server); got != tc.want {
			t.Errorf("offered %q: %q, want %q", tc.offered, got, tc.want)
		}
	}
}
