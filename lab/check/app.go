package check

// Queries over what the application decoder (lab/appdecode) found in the
// capture, and over the bytes the packets carried: for lessons about HTTP,
// TLS and DNS.

import (
	"bytes"

	"github.com/netlab/netlab/lab/decode"
)

// AppMsg is one application message the decoder named in a packet: an HTTP
// request or response head, a part of a body, a TLS record, a DNS query or
// answer.
type AppMsg struct {
	Packet *decode.Packet
	// Index is the message's position among its packet's messages, from 1.
	Index int
	decode.AppMessage
}

// Get is the message's field k ("method", "status", "header.host",
// "question", ...), or "".
func (m AppMsg) Get(k string) string { return m.Fields.Get(k) }

// AppMsgs lists the messages of proto ("http", "tls", "dns") in capture
// order, one per message even where a packet carries several.
func (v *View) AppMsgs(proto string) []AppMsg {
	var out []AppMsg
	for _, p := range v.Packets() {
		if p.App == nil || p.App.Proto != proto {
			continue
		}
		for i, m := range p.App.Messages {
			out = append(out, AppMsg{Packet: p, Index: i + 1, AppMessage: m})
		}
	}
	return out
}

// HTTPRequests lists the HTTP requests on the wire, each at the packet that
// completed its head (request line and headers).
func (v *View) HTTPRequests() []AppMsg { return httpHeads(v.AppMsgs("http"), "request") }

// HTTPResponses lists the HTTP responses on the wire, each at the packet
// that completed its head (status line and headers).
func (v *View) HTTPResponses() []AppMsg { return httpHeads(v.AppMsgs("http"), "response") }

// httpHeads keeps the messages of kind ("request", "response") that are a
// head (they have a method or a status), not a later part of a body.
func httpHeads(ms []AppMsg, kind string) []AppMsg {
	var out []AppMsg
	for _, m := range ms {
		if m.Get("message") == kind && (m.Get("method") != "" || m.Get("status") != "") {
			out = append(out, m)
		}
	}
	return out
}

// Wire is every byte the packets of v carried, frames whole (headers
// included), in capture order: what an eavesdropper on the link records.
func (v *View) Wire() []byte {
	var b bytes.Buffer
	for _, p := range v.Packets() {
		b.Write(p.Data)
	}
	return b.Bytes()
}

// Sent is the payload lane sent on TCP connections in v, in capture order
// with retransmissions left out, so text split across segments is found
// whole.
func (v *View) Sent(lane string) []byte {
	var b bytes.Buffer
	for _, p := range v.Packets(TCP, From(lane), WithPayload) {
		if Original(p) {
			b.Write(p.Payload())
		}
	}
	return b.Bytes()
}

// SYNs lists the connection attempts: TCP segments with SYN and without ACK.
func (v *View) SYNs() []*decode.Packet {
	var out []*decode.Packet
	for _, p := range v.Packets(TCP, HasFlags(decode.SYN)) {
		if !p.Flags.Has(decode.ACK) {
			out = append(out, p)
		}
	}
	return out
}
