package pubsub

import (
	"encoding/binary"
	"sync"
)

// The items of a subscription stream are encoded once per publication,
// here, and copied into the frame of each subscriber:
//
//	{"channel": str, "data": any, "offset": uint}
//	{"channel": str, "join": ClientInfo}
//	{"channel": str, "leave": ClientInfo}
//
// in that key order, integers and strings in their smallest MsgPack form,
// as the codec writes them.

type itemBuf struct{ b []byte }

var itemPool = sync.Pool{New: func() any { return &itemBuf{b: make([]byte, 0, 256)} }}

// appendItem appends the item of pub to b.
func appendItem(b []byte, pub *Publication) []byte {
	switch {
	case pub.Join != nil:
		b = append(b, 0x82)
		b = appendStr(b, "channel")
		b = appendStr(b, pub.Channel)
		b = appendStr(b, "join")
		return append(b, pub.Join...)
	case pub.Leave != nil:
		b = append(b, 0x82)
		b = appendStr(b, "channel")
		b = appendStr(b, pub.Channel)
		b = appendStr(b, "leave")
		return append(b, pub.Leave...)
	}
	b = append(b, 0x83)
	b = appendStr(b, "channel")
	b = appendStr(b, pub.Channel)
	b = appendStr(b, "data")
	if pub.Data == nil {
		b = append(b, 0xc0)
	} else {
		b = append(b, pub.Data...)
	}
	b = appendStr(b, "offset")
	return appendUint(b, pub.Offset)
}

func appendStr(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n < 1<<8:
		b = append(b, 0xd9, byte(n))
	case n < 1<<16:
		b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
	default:
		b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
	}
	return append(b, s...)
}

func appendUint(b []byte, n uint64) []byte {
	switch {
	case n < 128:
		return append(b, byte(n))
	case n < 1<<8:
		return append(b, 0xcc, byte(n))
	case n < 1<<16:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n < 1<<32:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xcf), n)
}
