package decode

import "github.com/netlab/netlab/lab/i18n"

// Drop says whether a captured packet reached its receiver. The capture
// sees a packet before the receiver's firewall does, so a packet on the
// timeline may never have arrived; only drops the lab itself makes are
// known (lab/impair logs its rules' drops).
type Drop uint8

// Drop reasons.
const (
	// Delivered: nothing in the lab dropped it.
	Delivered Drop = iota
	// DropFirewall: the lab's nftables rule dropped it at the receiver's
	// input hook.
	DropFirewall
	// DropWire: a lab network's wire lost it (its WireNotes say which
	// rule).
	DropWire
	// DropChecksum: the wire flipped a bit and the receiver's kernel
	// dropped it on its checksum.
	DropChecksum
)

// String is the JSON value: "", "firewall", "wire" or "checksum".
func (d Drop) String() string {
	switch d {
	case DropFirewall:
		return "firewall"
	case DropWire:
		return "wire"
	case DropChecksum:
		return "checksum"
	}
	return ""
}

// Text says it to a learner ("dropped by the firewall").
func (d Drop) Text() i18n.Text {
	switch d {
	case DropFirewall:
		return i18n.T("dropped by the firewall", "被防火墙丢弃")
	case DropWire:
		return i18n.T("lost on the wire", "在线路上丢失")
	case DropChecksum:
		return i18n.T("corrupted on the wire: the receiver dropped it (bad checksum)", "在线路上损坏:接收方因校验和错误丢弃")
	}
	return i18n.Text{}
}
