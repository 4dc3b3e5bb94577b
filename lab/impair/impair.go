// Package impair makes the network of a run misbehave on purpose: it drops
// chosen packets, or a share of them at random, with nftables rules at the
// input hook of the run's private network namespace. A peer whose packets
// are dropped there "vanishes": its socket is still open, but nothing it
// sends arrives, and the capture on lo still shows every packet (it sees
// them before the firewall does).
//
// Rules go in a table of their own ("netlab") created over netlink
// (google/nftables; no nft binary needed); the table lives in the run's
// namespace and dies with it. Drop at input, not output: a packet dropped
// at output makes the sender's own send() fail with EPERM, which is not
// what a lost packet looks like.
package impair

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/netlab/netlab/lab/sandbox"
)

// TableName is the nftables table the rules live in.
const TableName = "netlab"

// Match selects packets by transport protocol and ports (0: any port).
type Match struct {
	Proto   string // "tcp" or "udp"
	SrcPort uint16
	DstPort uint16
}

// String renders the match in nft syntax: "tcp dport 8888".
func (m Match) String() string {
	parts := []string{m.Proto}
	if m.SrcPort != 0 {
		parts = append(parts, fmt.Sprintf("sport %d", m.SrcPort))
	}
	if m.DstPort != 0 {
		parts = append(parts, fmt.Sprintf("dport %d", m.DstPort))
	}
	if len(parts) == 1 {
		return "meta l4proto " + m.Proto
	}
	return strings.Join(parts, " ")
}

// Firewall holds the run's impairment rules.
type Firewall struct {
	conn  *nftables.Conn
	table *nftables.Table
	chain *nftables.Chain
}

// Open creates the netlab table with an input chain in the current network
// namespace. It refuses in Host mode, where it would change the host's
// firewall.
func Open(mode sandbox.Mode) (*Firewall, error) {
	if mode == sandbox.Host {
		return nil, errors.New("impair: not in a private namespace (host mode leaves the host's firewall alone)")
	}
	if err := sandbox.OwnsNetns(); err != nil {
		return nil, fmt.Errorf("impair: %w", err)
	}
	c, err := nftables.New()
	if err != nil {
		return nil, fmt.Errorf("impair: nftables: %w", err)
	}
	f := &Firewall{conn: c}
	f.table = c.AddTable(&nftables.Table{Family: nftables.TableFamilyINet, Name: TableName})
	f.chain = c.AddChain(&nftables.Chain{
		Name: "input", Table: f.table, Type: nftables.ChainTypeFilter,
		Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter,
	})
	if err := c.Flush(); err != nil {
		return nil, fmt.Errorf("impair: create table %s: %w", TableName, err)
	}
	return f, nil
}

// Drop drops every packet matching m at the input hook.
func (f *Firewall) Drop(m Match) error {
	ex, err := matchExprs(m)
	if err != nil {
		return err
	}
	return f.add(append(ex, logDrop(), &expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop}))
}

// Loss drops percent % of the packets matching m, at random (nft's
// "numgen random mod 100 < percent").
func (f *Firewall) Loss(m Match, percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("impair: loss %d%%: want 0–100", percent)
	}
	ex, err := matchExprs(m)
	if err != nil {
		return err
	}
	ex = append(ex,
		&expr.Numgen{Register: 1, Modulus: 100, Type: unix.NFT_NG_RANDOM},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: nativeUint32(uint32(percent))},
		logDrop(), &expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop})
	return f.add(ex)
}

// Dropped returns how many packets the rules have dropped so far.
func (f *Firewall) Dropped() (uint64, error) {
	rules, err := f.conn.GetRules(f.table, f.chain)
	if err != nil {
		return 0, fmt.Errorf("impair: list rules: %w", err)
	}
	var n uint64
	for _, r := range rules {
		for _, e := range r.Exprs {
			if c, ok := e.(*expr.Counter); ok {
				n += c.Packets
			}
		}
	}
	return n, nil
}

// Clear removes every rule (the table stays).
func (f *Firewall) Clear() error {
	f.conn.FlushChain(f.chain)
	if err := f.conn.Flush(); err != nil {
		return fmt.Errorf("impair: clear: %w", err)
	}
	return nil
}

// Close deletes the table and its rules.
func (f *Firewall) Close() error {
	f.conn.DelTable(f.table)
	err := f.conn.Flush()
	if cerr := f.conn.CloseLasting(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("impair: delete table %s: %w", TableName, err)
	}
	return nil
}

func (f *Firewall) add(ex []expr.Any) error {
	f.conn.AddRule(&nftables.Rule{Table: f.table, Chain: f.chain, Exprs: ex})
	if err := f.conn.Flush(); err != nil {
		return fmt.Errorf("impair: add rule: %w", err)
	}
	return nil
}

// matchExprs compiles a Match: meta l4proto, then the ports in the transport
// header (source at offset 0, destination at 2, both TCP and UDP).
func matchExprs(m Match) ([]expr.Any, error) {
	var proto byte
	switch m.Proto {
	case "tcp":
		proto = unix.IPPROTO_TCP
	case "udp":
		proto = unix.IPPROTO_UDP
	default:
		return nil, fmt.Errorf("impair: protocol %q: want tcp or udp", m.Proto)
	}
	ex := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
	port := func(off uint32, p uint16) {
		ex = append(ex,
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: off, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binary.BigEndian.AppendUint16(nil, p)})
	}
	if m.SrcPort != 0 {
		port(0, m.SrcPort)
	}
	if m.DstPort != 0 {
		port(2, m.DstPort)
	}
	return ex, nil
}

func nativeUint32(v uint32) []byte { return binary.NativeEndian.AppendUint32(nil, v) }
