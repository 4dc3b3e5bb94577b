// Package capture provides packet sources for netlab: live capture from a
// network interface (AF_PACKET, TPACKET_V3, pure Go, no libpcap) and reading
// pcap / pcapng capture files. Both satisfy [Source].
//
// # Loopback double delivery and the BPF filter
//
// An AF_PACKET socket bound to the loopback device sees every packet twice:
// once as it is transmitted (packet type PACKET_OUTGOING, delivered by
// dev_queue_xmit_nit) and once as it is received back (PACKET_HOST). The two
// copies are byte-identical, and gopacket's afpacket package does not expose
// the packet type, so they cannot be told apart in user space. [OpenLive]
// therefore attaches a classic BPF filter to loopback sockets that loads the
// packet-type ancillary field (SKF_AD_PKTTYPE) and rejects PACKET_OUTGOING,
// accepting everything else with the full snap length — the same thing
// libpcap does on "lo". One exchange then yields exactly one copy of each
// packet. On other interfaces (ethernet, veth, tun) a packet is delivered only
// once, and outgoing packets are half of the conversation, so no filter is
// attached there.
//
// The filter can only be attached after gopacket has bound the socket and set
// up its ring, so packets that crossed the device in that window may sit in
// the ring unfiltered. A live source discards, until the first packet stamped
// after the filter was attached, every packet stamped before it.
//
// # Latency: the 1 ms block timeout
//
// TPACKET_V3 hands packets to user space a block at a time; the kernel
// retires a partially filled block only when its block timeout expires (64 ms
// by default in gopacket). netlab scenarios exchange a handful of packets and
// want to show them as they happen, so live sources use a 1 ms block timeout,
// which brings capture-to-read latency under a millisecond. Blocks are 1 MiB
// (32 of them) because a V3 packet must fit in one block and loopback GSO
// packets can be 64 KiB; the filter's 256 KiB snap length means such a packet
// is captured whole. [Live.ReadFrame] polls in slices of a few milliseconds
// and returns [ErrTimeout] when nothing arrived, so a caller can check for
// cancellation between calls.
//
// # Ownership of bytes
//
// A [Frame]'s Data is copied out of the kernel ring (or the file reader's
// buffer) before ReadFrame returns. The Frame owns it: it stays valid forever
// and is never modified by this package. To keep steady-state capture free of
// per-packet allocations the copies are carved out of 1 MiB slabs; each Data is
// capped (full slice expression) so an append by the caller reallocates
// instead of clobbering the next frame. Slabs are never reused.
//
// # Link type
//
// A source reports the link type of the bytes it produces, taken from the
// source itself: the pcap file header or the first pcapng interface block for
// files, and the interface's ARPHRD hardware type for live capture
// (ARPHRD_ETHER and ARPHRD_LOOPBACK carry Ethernet headers ->
// layers.LinkTypeEthernet; ARPHRD_NONE, e.g. tun and WireGuard, carries bare
// IP -> layers.LinkTypeRaw; anything else is refused as an unsupported link
// type).
//
// # Concurrency
//
// ReadFrame is meant to be called from one goroutine (concurrent calls are
// serialized). Close and Stats may be called from any goroutine at any time;
// Close makes a pending ReadFrame return [ErrClosed] promptly (within one poll
// interval for a live source).
package capture
