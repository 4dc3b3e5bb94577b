// Package labnet builds lab networks: hosts in network namespaces of their
// own, joined by a wire that can misbehave on purpose.
//
//	run sandbox (a network namespace, or a user+network namespace)
//	├── host "client"  netns: lo, eth0 192.0.2.10/24 ──veth──┐
//	│                                                        w0
//	├── wire           netns: w0, w1 ── Go relay (AF_PACKET), wire.Model:
//	│                                   loss, bursts, delay, jitter, reorder,
//	│                                   duplicate, corrupt, rate, MTU, rules
//	│                                                        w1
//	└── host "server"  netns: lo, eth0 192.0.2.20/24 ──veth──┘
//
// Every frame between the hosts crosses user space: the relay reads it from
// one veth end with an AF_PACKET socket, asks the wire's Model what to do,
// and writes it (or not, or later, or twice, or with a bit flipped) to the
// other end. No bridge, no forwarding in the kernel, no netem (which many
// kernels lack). Each decision is a wire.Verdict on the relay's channel.
// Without a Wire the hosts are joined by a plain veth pair (a cable).
//
// # Namespaces without re-exec
//
// A network namespace belongs to a thread. New creates each one on a thread
// locked for the purpose: unshare(CLONE_NEWNET) (allowed in a multithreaded
// process, unlike CLONE_NEWUSER), keep an fd of /proc/thread-self/ns/net,
// setns back. Host.Do runs a function on a thread switched into the host the
// same way; a socket created there stays in the host's namespace for its
// whole life, whichever goroutine uses it later. A thread that cannot be
// switched back is never returned to the Go scheduler: it exits with its
// goroutine. The namespaces are anonymous (never mounted under /run/netns),
// so they die with their last fd: after Close, or with the process even on
// kill -9. Interfaces are created inside the namespaces they belong to:
// nothing ever appears in the caller's namespace.
//
// Where the sandbox allows it (root: yes; rootless: no, its UTS namespace is
// the host's and setns back into it is refused) each host also has a UTS
// namespace with its name as host name.
//
// # What a run reads from a lab network
//
// A capture on a host's interface (lab/capture.OpenLive called inside
// Host.Do) sees each packet leave its sender and, unless the wire dropped
// it, arrive at its receiver. A sock_diag connection opened inside Host.Do
// reads that host's sockets only. The relay's verdicts carry
// wire.FrameKey of the frame as it arrived, which the capture on the
// sender's interface computes identically: that is how a packet on the
// timeline finds what the wire did to it.
//
// # Real checksums
//
// A veth hands frames on with checksums left to "hardware" (CHECKSUM_PARTIAL)
// and segments up to 64 KB (TSO/GSO). A frame read from an AF_PACKET socket
// and written to another interface loses that promise: the receiver then
// verifies a checksum nobody computed and drops the frame. So transmit
// checksum offload, scatter-gather, TSO, GSO and GRO are turned off on every
// veth end (SIOCETHTOOL): frames leave the hosts no larger than the MTU and
// with their checksums computed, and a flipped bit makes the receiving
// kernel drop the frame (counted in /proc/net/snmp InCsumErrors) as on a
// real link.
//
// # Measured here (Linux 6.18, 2 cores shared with other work, load 5–8)
//
// go test -run '^$' -bench . ./lab/labnet/ builds a cable and a wire side by
// side and measures both in the same run. With no impairment the relay adds
// about 3–4 µs one way at the median (a UDP round trip of 11–14 µs against
// 5.5 µs on the cable; a frame spends about 1.3 µs inside the relay). It
// moves 160,000–280,000 small frames per second (the cable: 260,000–380,000)
// and bulk TCP at 140–255 MB/s: 74–146 % of a cable with the same MTU and
// offloads, but only 12–29 % of a cable with the veth's default offloads
// (820–1,350 MB/s), which hands 64 KB TSO segments across with no checksum
// computed. A wire cannot do that and stay a wire: it must decide, and so
// carry, every 1514-byte frame; the profile shows the relay's own code at
// ~6 % of its CPU, the rest in the kernel, where the relay's sendmmsg also
// runs the receiving host's TCP stack.
package labnet
