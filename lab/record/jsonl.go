// Package record writes a run for other tools: JSON lines for scripts (the
// schema in the README, version 1: later versions add fields, never change or
// remove them) and pcapng for Wireshark and tshark, with the narration, the
// program's calls and the kernel's states as packet comments.
package record

import (
	"encoding/json"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/tcpstate"
	"github.com/netlab/netlab/lab/timeline"
)

// SchemaVersion is the version of the JSON lines schema.
const SchemaVersion = 1

// JSON writes events as JSON lines.
type JSON struct {
	enc    *json.Encoder
	meta   timeline.Meta
	lang   i18n.Lang
	lastID int
	lastT  float64
}

// NewJSON returns a writer; call Run first, then Event for each event, then Summary.
func NewJSON(w io.Writer, lang i18n.Lang) *JSON {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return &JSON{enc: enc, lang: lang}
}

// AppLine is a packet line's "app" object: the packet's application
// messages flattened into one summary and one map of fields. The first
// message's fields keep their names; the next ones' are numbered from 2
// ("2.status", "3.method"), the shape schema v1 documents.
type AppLine struct {
	Proto   string            `json:"proto"`
	Summary string            `json:"summary"`
	Fields  map[string]string `json:"fields,omitempty"`
	Partial bool              `json:"partial,omitempty"`
}

// appLine flattens a (nil for none).
func appLine(a *decode.AppInfo) *AppLine {
	if a == nil {
		return nil
	}
	l := &AppLine{Proto: a.Proto, Summary: a.Summary(), Partial: a.Partial()}
	for i, m := range a.Messages {
		prefix := ""
		if i > 0 {
			prefix = strconv.Itoa(i+1) + "."
		}
		for _, f := range m.Fields {
			if l.Fields == nil {
				l.Fields = map[string]string{}
			}
			l.Fields[prefix+f.Key] = f.Value
		}
	}
	return l
}

// Line is one JSON line. Fields that do not apply to a type are omitted.
type Line struct {
	ID   int     `json:"id"`
	T    float64 `json:"t"`
	Type string  `json:"type"`

	// run (id 0: the first line)
	Schema   int      `json:"schema,omitempty"`
	Scenario string   `json:"scenario,omitempty"`
	Title    string   `json:"title,omitempty"`
	Lanes    []string `json:"lanes,omitempty"`
	Sandbox  string   `json:"sandbox,omitempty"`
	// Points, WireDesc, Seed: a lab network run's capture points, what
	// its wire does and the seed that repeats its random decisions.
	Points   []string `json:"points,omitempty"`
	WireDesc string   `json:"wire_config,omitempty"`
	Seed     *uint64  `json:"seed,omitempty"`

	// packet
	N     int      `json:"n,omitempty"`
	Proto string   `json:"proto,omitempty"`
	Src   string   `json:"src,omitempty"`
	Dst   string   `json:"dst,omitempty"`
	Flags []string `json:"flags,omitempty"`
	Seq   *uint32  `json:"seq,omitempty"`
	Ack   *uint32  `json:"ack,omitempty"`
	Len   *int     `json:"len,omitempty"`
	Win   *uint32  `json:"win,omitempty"`
	// InFlight: bytes its sender has sent and not yet seen acknowledged,
	// after this segment (compare with the peer's win).
	InFlight uint32   `json:"in_flight,omitempty"`
	Summary  string   `json:"summary,omitempty"`
	Expert   []string `json:"expert,omitempty"`
	App      *AppLine `json:"app,omitempty"`
	Act      int      `json:"act,omitempty"`
	// Dropped: why the packet never reached its receiver: "firewall",
	// "wire" (a lab network's wire lost it), "checksum" (the wire
	// corrupted it and the receiver's kernel dropped it).
	Dropped string `json:"dropped,omitempty"`
	// ArrivedT: on a lab network, when the packet reached its receiver's
	// interface (seconds since the run began, like t, which is when its
	// sender sent it); absent when no copy arrived.
	ArrivedT *float64 `json:"arrived_t,omitempty"`
	// Wire: on a lab network, what the wire did to the packet.
	Wire *WireLine `json:"wire,omitempty"`

	// packet (from, to: lanes) and state (from, to: states)
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`

	// tcpinfo (with endpoint and socket)
	Info *InfoLine `json:"info,omitempty"`

	// packet (proto "arp"): what the ARP message says
	ARP *ARPLine `json:"arp,omitempty"`

	// neigh (with endpoint: the lane on the host whose table changed)
	Host  string `json:"host,omitempty"`
	Iface string `json:"iface,omitempty"`
	Addr  string `json:"addr,omitempty"`
	MAC   string `json:"mac,omitempty"`
	State string `json:"state,omitempty"`

	// state, app and tcpinfo
	Endpoint     string     `json:"endpoint,omitempty"`
	Socket       string     `json:"socket,omitempty"`
	Source       string     `json:"source,omitempty"`
	Timer        string     `json:"timer,omitempty"`
	ExpiresMS    *int64     `json:"expires_ms,omitempty"`
	Gone         bool       `json:"gone,omitempty"`
	Queue        *[2]uint32 `json:"accept_queue,omitempty"`
	InferredFrom int        `json:"inferred_from_packet,omitempty"`

	// app
	Call   string `json:"call,omitempty"`
	Bytes  *int   `json:"bytes,omitempty"`
	Detail string `json:"detail,omitempty"`
	Error  string `json:"error,omitempty"`

	// note
	Text string `json:"text,omitempty"`
	Step bool   `json:"step,omitempty"`

	// check
	Name string `json:"name,omitempty"`
	OK   *bool  `json:"ok,omitempty"`
	// NA: the check describes another kind of run and was not judged
	// (ok is false; detail says why).
	NA bool `json:"not_applicable,omitempty"`

	// summary
	Packets      *int    `json:"packets,omitempty"`
	Drops        *uint64 `json:"drops,omitempty"`
	ChecksPassed *int    `json:"checks_passed,omitempty"`
	ChecksFailed *int    `json:"checks_failed,omitempty"`
	ChecksNA     int     `json:"checks_not_applicable,omitempty"`
	Interrupted  bool    `json:"interrupted,omitempty"`
}

// InfoLine is a kernel tcp_info reading (a tcpinfo line's info).
type InfoLine struct {
	Congestion   string   `json:"cong,omitempty"` // the algorithm: "bbr", "cubic"
	CAState      string   `json:"ca_state"`       // Open, Disorder, CWR, Recovery, Loss
	Cwnd         uint32   `json:"cwnd"`           // segments
	Ssthresh     *uint32  `json:"ssthresh,omitempty"`
	RTTus        int64    `json:"rtt_us"` // smoothed
	RTTVarUs     int64    `json:"rttvar_us"`
	MinRTTus     int64    `json:"min_rtt_us,omitempty"`
	RTOms        int64    `json:"rto_ms"`
	Unacked      uint32   `json:"unacked"`
	Lost         uint32   `json:"lost"`
	Retrans      uint32   `json:"retrans"`
	Retransmits  uint8    `json:"retransmits"`
	TotalRetrans uint32   `json:"total_retrans"`
	Reordering   uint32   `json:"reordering"`
	ReordSeen    uint32   `json:"reord_seen"`
	DSACKDups    uint32   `json:"dsack_dups"`
	SndWnd       uint32   `json:"snd_wnd,omitempty"`
	DeliveryRate uint64   `json:"delivery_rate"` // bytes per second
	PacingRate   uint64   `json:"pacing_rate,omitempty"`
	BBR          *BBRLine `json:"bbr,omitempty"`
}

// BBRLine is bbr's model of the path (tcp_bbr_info).
type BBRLine struct {
	Bandwidth  uint64  `json:"bw"` // bytes per second
	MinRTTus   int64   `json:"min_rtt_us"`
	PacingGain float64 `json:"pacing_gain"`
	CwndGain   float64 `json:"cwnd_gain"`
}

func infoLine(t *timeline.TCPInfo) *InfoLine {
	l := &InfoLine{
		Congestion: t.Congestion, CAState: t.CAState.String(), Cwnd: t.Cwnd,
		RTTus: t.RTT.Microseconds(), RTTVarUs: t.RTTVar.Microseconds(), MinRTTus: t.MinRTT.Microseconds(), RTOms: t.RTO.Milliseconds(),
		Unacked: t.Unacked, Lost: t.Lost, Retrans: t.Retrans, Retransmits: t.Retransmits, TotalRetrans: t.TotalRetrans,
		Reordering: t.Reordering, ReordSeen: t.ReordSeen, DSACKDups: t.DSACKDups, SndWnd: t.SndWnd, DeliveryRate: t.DeliveryRate,
	}
	if t.Ssthresh != 0 {
		ss := t.Ssthresh
		l.Ssthresh = &ss
	}
	l.PacingRate = t.PacingRate
	if b := t.BBR; b != nil {
		l.BBR = &BBRLine{Bandwidth: b.Bandwidth, MinRTTus: b.MinRTT.Microseconds(), PacingGain: b.PacingGain, CwndGain: b.CwndGain}
	}
	return l
}

// WireLine is what a lab network's wire did to a packet.
type WireLine struct {
	From   string `json:"from"`   // capture point where it left its sender: "client:eth0"
	To     string `json:"to"`     // capture point of its receiver: "server:eth0"
	Action string `json:"action"` // "pass", or "drop", "delay", "reorder", "corrupt", "duplicate" joined by "+"; "unknown" if the verdict is missing
	Rule   string `json:"rule,omitempty"`
	Copies int    `json:"copies"` // copies captured at the receiver
}

// Run writes the first line, describing the run.
func (j *JSON) Run(meta timeline.Meta) error {
	j.meta = meta
	l := Line{ID: 0, Type: "run", Schema: SchemaVersion, Scenario: meta.Scenario,
		Title: meta.Title.In(j.lang), Lanes: meta.Lanes, Sandbox: meta.Sandbox.String()}
	if len(meta.Points) > 0 {
		seed := meta.Seed
		l.Points, l.WireDesc, l.Seed = meta.Points, meta.Wire, &seed
	}
	return j.enc.Encode(l)
}

// SetMeta updates the run start used for "t" (known once capture starts).
func (j *JSON) SetMeta(meta timeline.Meta) { j.meta = meta }

func (j *JSON) since(e *timeline.Event) float64 {
	if j.meta.Start.IsZero() {
		return 0
	}
	return j.sinceT(e.Time)
}

func (j *JSON) sinceT(t time.Time) float64 {
	return math.Round(t.Sub(j.meta.Start).Seconds()*1e6) / 1e6
}

// ARPLine is a packet line's "arp" object.
type ARPLine struct {
	Op        string `json:"op"` // "request" or "reply"
	SenderMAC string `json:"sender_mac"`
	TargetMAC string `json:"target_mac"`
	// EthDst is the frame's destination MAC: ff:ff:ff:ff:ff:ff for a
	// broadcast.
	EthDst string `json:"eth_dst,omitempty"`
}

func arpLine(p *decode.Packet) *ARPLine {
	if p.Proto != decode.ProtoARP {
		return nil
	}
	op := strconv.Itoa(int(p.ARP.Op))
	switch p.ARP.Op {
	case decode.ARPRequest:
		op = "request"
	case decode.ARPReply:
		op = "reply"
	}
	l := &ARPLine{Op: op, SenderMAC: decode.MACString(p.ARP.SenderMAC), TargetMAC: decode.MACString(p.ARP.TargetMAC)}
	if p.ARP.EthDst != ([6]byte{}) {
		l.EthDst = decode.MACString(p.ARP.EthDst)
	}
	return l
}

// wireLine is what the wire did to p, nil on loopback.
func (j *JSON) wireLine(p *decode.Packet) (*WireLine, *float64) {
	w := &p.Lab.Wire
	if !w.Crossed() {
		return nil, nil
	}
	l := &WireLine{From: w.From, To: w.To, Action: w.Action.String(), Rule: w.Rule, Copies: int(w.Copies)}
	if !w.Known {
		l.Action = "unknown"
	}
	if w.Arrived.IsZero() {
		return l, nil
	}
	at := j.sinceT(w.Arrived)
	return l, &at
}

// LineOf converts an event to its JSON line.
func (j *JSON) LineOf(e *timeline.Event) Line {
	l := Line{ID: e.ID, T: j.since(e), Type: e.Kind.String(), Act: e.Act}
	switch e.Kind {
	case timeline.KindPacket:
		p := e.Packet
		l.N, l.Proto, l.From, l.To, l.Summary, l.Expert, l.App = p.N, p.Proto.String(), p.Lab.From, p.Lab.To, p.Summary(), p.Flow.Expert.Names(), appLine(p.App)
		l.Dropped = p.Lab.Drop.String()
		l.Wire, l.ArrivedT = j.wireLine(p)
		l.ARP = arpLine(p)
		if p.Src.IsValid() {
			l.Src, l.Dst = p.Src.String(), p.Dst.String()
			if p.Proto == decode.ProtoICMP || p.Proto == decode.ProtoARP {
				l.Src, l.Dst = p.Src.Addr().String(), p.Dst.Addr().String()
			}
		}
		n := p.PayloadLen
		l.Len = &n
		if p.Proto == decode.ProtoTCP {
			seq, ack, win := p.Flow.RelSeq, p.Flow.RelAck, p.Flow.WinBytes
			l.Flags = p.Flags.Names()
			l.Seq, l.Ack, l.Win, l.InFlight = &seq, &ack, &win, p.Flow.InFlight
		}
	case timeline.KindState:
		s := e.State
		l.Endpoint, l.Socket, l.From, l.To, l.Source, l.Timer = s.Lane, s.Socket.String(), s.From.String(), s.To.String(), s.Source.String(), s.Timer.String()
		l.Gone, l.InferredFrom = s.Gone, s.Packet
		if s.Timer != tcpstate.TimerNone {
			ms := s.Expires.Milliseconds()
			l.ExpiresMS = &ms
		}
		if s.To == tcpstate.Listen {
			l.Queue = &[2]uint32{s.RecvQ, s.SendQ}
		}
	case timeline.KindApp:
		a := e.App
		b := a.Bytes
		l.Endpoint, l.Call, l.Bytes, l.Socket, l.Detail, l.Error, l.Proto = a.Lane, a.Call.String(), &b, a.Socket.String(), a.Detail, a.Err, a.Proto.String()
	case timeline.KindNote:
		l.Text, l.Step = e.Note.Text.In(j.lang), e.Note.Step
	case timeline.KindTCPInfo:
		l.Endpoint, l.Socket, l.Info = e.TCPInfo.Lane, e.TCPInfo.Socket.String(), infoLine(e.TCPInfo)
	case timeline.KindNeigh:
		n := e.Neigh
		l.Endpoint, l.Host, l.Iface, l.Addr, l.State, l.Gone = n.Lane, n.Host, n.Iface, n.Addr.String(), n.State.String(), n.Gone
		if n.MAC != nil {
			l.MAC = n.MAC.String()
		}
	case timeline.KindCheck:
		ok := e.Check.OK
		l.Name, l.OK, l.Detail, l.NA = e.Check.Name.In(j.lang), &ok, e.Check.Detail.In(j.lang), e.Check.NA
	}
	return l
}

// Event writes one event.
func (j *JSON) Event(e *timeline.Event) error {
	l := j.LineOf(e)
	j.lastID, j.lastT = e.ID, l.T
	return j.enc.Encode(l)
}

// Summary writes the final line.
func (j *JSON) Summary(s timeline.Summary) error {
	p, d, cp, cf := s.Packets, s.Drops, s.ChecksPassed, s.ChecksFailed
	return j.enc.Encode(Line{ID: j.lastID + 1, T: j.lastT, Type: "summary", Packets: &p, Drops: &d,
		ChecksPassed: &cp, ChecksFailed: &cf, ChecksNA: s.ChecksNA, Interrupted: s.Interrupted, Error: s.Err})
}
