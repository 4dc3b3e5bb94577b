package wire

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSize is how many frames one recvmmsg or sendmmsg moves at most:
// under load the relay makes a system call per batch, not per frame.
const batchSize = 32

// batch is the message headers and buffers of one recvmmsg/sendmmsg call.
// The pointers in hdrs and iovs point into bufs (or into the frames being
// sent), all kept alive by the batch itself.
type batch struct {
	hdrs []unix.Mmsghdr
	iovs []unix.Iovec
	bufs [][]byte // receive buffers
}

func newBatch(bufSize int) *batch {
	b := &batch{hdrs: make([]unix.Mmsghdr, batchSize), iovs: make([]unix.Iovec, batchSize)}
	for range batchSize {
		b.bufs = append(b.bufs, make([]byte, bufSize))
	}
	return b
}

// read receives up to batchSize frames, waiting in the runtime's poller
// until at least one is there; frame i is frame(i).
func (p *Port) read(b *batch) (int, error) {
	for i := range b.hdrs {
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(len(b.bufs[i]))
		b.hdrs[i] = unix.Mmsghdr{}
		b.hdrs[i].Hdr.Iov = &b.iovs[i]
		b.hdrs[i].Hdr.SetIovlen(1)
	}
	return p.mmsg(unix.SYS_RECVMMSG, b, len(b.hdrs), true)
}

// frame is the i-th frame received (cut to the buffer: a longer frame,
// which no MTU here allows, arrives truncated).
func (b *batch) frame(i int) []byte { return b.bufs[i][:min(int(b.hdrs[i].Len), len(b.bufs[i]))] }

// write sends frames in order with as few sendmmsg calls as the kernel
// allows; sent reports each frame's fate (nil: sent).
func (p *Port) write(b *batch, frames [][]byte, sent func(i int, err error)) {
	for start := 0; start < len(frames); {
		n := min(len(frames)-start, batchSize)
		for i := range n {
			f := frames[start+i]
			b.iovs[i].Base = unsafe.SliceData(f)
			b.iovs[i].SetLen(len(f))
			b.hdrs[i] = unix.Mmsghdr{}
			b.hdrs[i].Hdr.Iov = &b.iovs[i]
			b.hdrs[i].Hdr.SetIovlen(1)
		}
		m, err := p.mmsg(unix.SYS_SENDMMSG, b, n, false)
		if err != nil || m == 0 {
			// The first message failed: report it and go on after it.
			if err == nil {
				err = unix.EIO
			}
			sent(start, err)
			start++
			continue
		}
		for i := range m {
			sent(start+i, nil)
		}
		start += m
	}
}

// mmsg makes one recvmmsg or sendmmsg call on the first n headers of b,
// waiting in the poller while the socket would block.
func (p *Port) mmsg(trap uintptr, b *batch, n int, reading bool) (int, error) {
	rc, err := p.f.SyscallConn()
	if err != nil {
		return 0, err
	}
	var m uintptr
	var errno syscall.Errno
	call := func(fd uintptr) bool {
		m, _, errno = unix.Syscall6(trap, fd, uintptr(unsafe.Pointer(&b.hdrs[0])), uintptr(n), unix.MSG_DONTWAIT, 0, 0)
		return errno != unix.EAGAIN
	}
	if reading {
		err = rc.Read(call)
	} else {
		err = rc.Write(call)
	}
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return int(m), nil
}
