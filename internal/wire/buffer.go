package wire

import "sync"

// Buffer is a growable byte slice that an [Encoder] writes frames into.
// Buffers are pooled: take one with [GetBuffer] and give it back with
// [PutBuffer] once its bytes have been written out.
type Buffer struct {
	B []byte
}

// Write appends p. It never fails.
func (b *Buffer) Write(p []byte) (int, error) {
	b.B = append(b.B, p...)
	return len(p), nil
}

// WriteByte appends c. It never fails.
func (b *Buffer) WriteByte(c byte) error {
	b.B = append(b.B, c)
	return nil
}

// WriteString appends s. It never fails.
func (b *Buffer) WriteString(s string) (int, error) {
	b.B = append(b.B, s...)
	return len(s), nil
}

// Len returns the number of bytes in the buffer.
func (b *Buffer) Len() int { return len(b.B) }

// Reset empties the buffer, keeping its capacity.
func (b *Buffer) Reset() { b.B = b.B[:0] }

// maxPooledBuffer keeps one huge frame from pinning its memory in the pool.
const maxPooledBuffer = 64 << 10

var bufferPool = sync.Pool{New: func() any { return &Buffer{B: make([]byte, 0, 256)} }}

// GetBuffer returns an empty buffer from the pool.
func GetBuffer() *Buffer {
	return bufferPool.Get().(*Buffer)
}

// PutBuffer returns b to the pool. b must not be used afterwards.
func PutBuffer(b *Buffer) {
	if cap(b.B) > maxPooledBuffer {
		return
	}
	b.B = b.B[:0]
	bufferPool.Put(b)
}
