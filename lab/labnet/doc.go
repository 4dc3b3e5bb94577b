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
// # Measured here (Linux 6.18, 2 shared cores; go test -bench . ./lab/labnet/)
//
// With no impairment the relay adds about 3 µs one way at the median (a UDP
// round trip of 11 µs against 5.5 µs on a cable; about 1 µs between reading
// a frame and writing it), relays 60,000–75,000 small frames per second
// (a cable: 115,000–135,000), and carries bulk TCP at 55–100 % of a cable
// with the same MTU and offloads (both 180–400 MB/s on this loaded machine).
package labnet
