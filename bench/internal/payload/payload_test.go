package payload

import (
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestEncodedSizes(t *testing.T) {
	for _, tc := range []struct {
		kind     string
		min, max int
	}{
		{Small, 50, 70},
		{Large, LargeDataSize, LargeDataSize + 80},
	} {
		b, err := msgpack.Marshal(New(tc.kind, 123456))
		if err != nil {
			t.Fatal(err)
		}
		if len(b) < tc.min || len(b) > tc.max {
			t.Errorf("%s payload encodes to %d bytes, want %d..%d", tc.kind, len(b), tc.min, tc.max)
		}
	}
}

func TestChecks(t *testing.T) {
	req := New(Large, 41)
	reply := Apply(req)
	if err := CheckReply(&req, &reply); err != nil {
		t.Fatalf("CheckReply of a correct reply: %v", err)
	}
	if err := CheckReply(&req, &req); err == nil {
		t.Error("CheckReply accepted an unchanged id")
	}
	bad := reply
	bad.Data = append([]byte(nil), reply.Data...)
	bad.Data[100]++
	if err := CheckReply(&req, &bad); err == nil {
		t.Error("CheckReply accepted altered data")
	}
	sr := &StreamRequest{Count: 3, Item: New(Small, 0)}
	for i := range sr.Count {
		it := StreamItem(sr, i)
		if err := CheckItem(sr, i, &it); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}
	it := StreamItem(sr, 1)
	if err := CheckItem(sr, 2, &it); err == nil {
		t.Error("CheckItem accepted an item out of order")
	}
}
