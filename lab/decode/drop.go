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
)

// String is the JSON value: "" or "firewall".
func (d Drop) String() string {
	if d == DropFirewall {
		return "firewall"
	}
	return ""
}

// Text says it to a learner ("dropped by the firewall").
func (d Drop) Text() i18n.Text {
	if d == DropFirewall {
		return i18n.T("dropped by the firewall", "被防火墙丢弃")
	}
	return i18n.Text{}
}
