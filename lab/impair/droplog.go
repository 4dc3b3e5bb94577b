package impair

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/sandbox"
)

// Packets the rules drop are logged first (nftables "log group LogGroup
// snaplen 64 queue-threshold 1"), so the run can tell which captured
// packets never reached their receiver: the capture on lo sees a packet
// before the input hook does. A DropLog reads the log over NFLOG netlink.
const (
	// LogGroup is the NFLOG group of the drop rules (per network
	// namespace: each run has its own).
	LogGroup = 6271
	// snapLen bytes of each dropped packet (from its IP header) are
	// logged: IP and TCP headers with their options, enough to tell one
	// packet from every other (ports, sequence, acknowledgement, IP id,
	// timestamps).
	snapLen = 64
)

// logDrop is the rule expression that logs a packet before its drop.
func logDrop() expr.Any {
	return &expr.Log{
		Key:   1<<unix.NFTA_LOG_GROUP | 1<<unix.NFTA_LOG_SNAPLEN | 1<<unix.NFTA_LOG_QTHRESHOLD,
		Group: LogGroup, Snaplen: snapLen, QThreshold: 1,
	}
}

// NFLOG's netlink protocol (linux/netfilter/nfnetlink_log.h).
const (
	nfulnlMsgPacket  = 0
	nfulnlMsgConfig  = 1
	nfulaPayload     = 9
	nfulaCfgCmd      = 1
	nfulaCfgMode     = 2
	nfulaCfgQThresh  = 5
	nfulnlCfgCmdBind = 1
	nfulnlCopyPacket = 2
)

// DropLog reads which packets the lab's rules dropped. Not safe for
// concurrent use: one goroutine drains it and asks about packets.
type DropLog struct {
	fd   int
	buf  []byte
	keys map[uint64]time.Time // dropped packets not yet asked about, when read
}

// OpenDropLog listens to the drop rules' log group in the current network
// namespace. It refuses in Host mode, where the group belongs to the host.
func OpenDropLog(mode sandbox.Mode) (*DropLog, error) {
	if mode == sandbox.Host {
		return nil, errors.New("impair: drop log: not in a private namespace")
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return nil, fmt.Errorf("impair: drop log: %w", err)
	}
	d := &DropLog{fd: fd, buf: make([]byte, 64<<10), keys: map[uint64]time.Time{}}
	if err := d.bind(); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("impair: drop log: %w", err)
	}
	return d, nil
}

func (d *DropLog) bind() error {
	_ = unix.SetsockoptInt(d.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20) // bursts of drops
	if err := unix.Bind(d.fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("bind: %w", err)
	}
	mode := binary.BigEndian.AppendUint32(nil, snapLen)
	mode = append(mode, nfulnlCopyPacket, 0)
	attrs, err := netlink.MarshalAttributes([]netlink.Attribute{
		{Type: nfulaCfgCmd, Data: []byte{nfulnlCfgCmdBind}},
		{Type: nfulaCfgMode, Data: mode},
		{Type: nfulaCfgQThresh, Data: binary.BigEndian.AppendUint32(nil, 1)}, // no batching: one message per drop
	})
	if err != nil {
		return err
	}
	msg := netlink.Message{
		Header: netlink.Header{Type: netlink.HeaderType(unix.NFNL_SUBSYS_ULOG<<8 | nfulnlMsgConfig), Flags: netlink.Request | netlink.Acknowledge, Sequence: 1},
		// nfgenmsg: family AF_UNSPEC, version 0, resource id: the group.
		Data: append([]byte{unix.AF_UNSPEC, 0, LogGroup >> 8, LogGroup & 0xff}, attrs...),
	}
	msg.Header.Length = uint32(unix.NLMSG_HDRLEN + len(msg.Data))
	b, err := msg.MarshalBinary()
	if err != nil {
		return err
	}
	if err := unix.Sendto(d.fd, b, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return fmt.Errorf("bind group %d: %w", LogGroup, err)
	}
	n, _, err := unix.Recvfrom(d.fd, d.buf, 0)
	if err != nil {
		return fmt.Errorf("bind group %d: %w", LogGroup, err)
	}
	var ack netlink.Message
	if err := ack.UnmarshalBinary(d.buf[:n]); err != nil {
		return fmt.Errorf("bind group %d: %w", LogGroup, err)
	}
	if ack.Header.Type == netlink.Error && len(ack.Data) >= 4 {
		if errno := int32(binary.NativeEndian.Uint32(ack.Data)); errno != 0 {
			return fmt.Errorf("bind group %d: %w", LogGroup, unix.Errno(-errno))
		}
	}
	return nil
}

// Drain reads every drop logged so far, without waiting. now stamps them
// (drops never asked about are forgotten a minute later).
func (d *DropLog) Drain(now time.Time) error {
	for {
		n, _, err := unix.Recvfrom(d.fd, d.buf, unix.MSG_DONTWAIT)
		switch {
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EINTR) && n <= 0:
			d.forget(now)
			return nil
		case errors.Is(err, unix.ENOBUFS):
			return fmt.Errorf("impair: drop log: messages lost (%w)", err)
		case err != nil:
			return fmt.Errorf("impair: drop log: %w", err)
		}
		d.parse(d.buf[:n], now)
	}
}

// parse records the payloads of the NFLOG packet messages in b.
func (d *DropLog) parse(b []byte, now time.Time) {
	for len(b) >= unix.NLMSG_HDRLEN {
		l := int(binary.NativeEndian.Uint32(b))
		if l < unix.NLMSG_HDRLEN || l > len(b) {
			return
		}
		typ := binary.NativeEndian.Uint16(b[4:])
		if typ == unix.NFNL_SUBSYS_ULOG<<8|nfulnlMsgPacket && l >= unix.NLMSG_HDRLEN+4 {
			ad, err := netlink.NewAttributeDecoder(b[unix.NLMSG_HDRLEN+4 : l])
			for err == nil && ad.Next() {
				if ad.Type() == nfulaPayload {
					d.keys[Key(ad.Bytes())] = now
				}
			}
		}
		b = b[min(len(b), (l+unix.NLMSG_ALIGNTO-1)&^(unix.NLMSG_ALIGNTO-1)):]
	}
}

func (d *DropLog) forget(now time.Time) {
	for k, t := range d.keys {
		if now.Sub(t) > time.Minute {
			delete(d.keys, k)
		}
	}
}

// Dropped reports whether the packet whose IP header and what follows are
// ip was dropped by a rule (as far as Drain has read), and forgets it.
func (d *DropLog) Dropped(ip []byte) bool {
	if len(d.keys) == 0 {
		return false
	}
	k := Key(ip)
	_, ok := d.keys[k]
	delete(d.keys, k)
	return ok
}

// Key identifies a packet by its first bytes from the IP header on, as
// the log has them.
func Key(ip []byte) uint64 {
	h := fnv.New64a()
	h.Write(ip[:min(len(ip), snapLen)])
	return h.Sum64()
}

// Close stops listening.
func (d *DropLog) Close() error { return unix.Close(d.fd) }
