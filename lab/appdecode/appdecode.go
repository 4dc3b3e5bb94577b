// Package appdecode names what packets carry at the application layer:
// HTTP/1.x requests and responses (request and status lines, headers, body
// length, chunks), TLS records and handshake messages (ClientHello with SNI,
// ServerHello, and — given the run's key log — the TLS 1.3 messages that
// travel encrypted: Certificate, Finished ...), and DNS messages (id,
// question, answers, TTLs) over UDP or TCP.
//
// The Decoder is fed every packet in capture order, after the flow tracker
// (lab/flow) has annotated it, and sets decode.Packet.App on the packets that
// complete something worth naming. TCP streams are put back in order with
// gopacket's reassembly package; DNS over UDP is decoded per datagram.
//
// Which packet gets the summary: the one whose arrival made the bytes
// available. An HTTP message is named on the segment that completes its
// header block ("GET /index.html", "200 OK"); if its body ends in a later
// segment, that segment gets "body N B" (or "last chunk ..." for chunked
// bodies, "chunk N B" for the chunks in between). A TLS segment lists the
// records it completes. A segment that completes several messages joins
// their summaries with ", ".
//
// Cost and memory. A TCP packet of a connection that is not HTTP, TLS or DNS
// costs one slice lookup: a connection is classified once, on its first
// payload, by evidence in its first bytes (a whole request line, a status
// line, a TLS hello record; never a prefix such as "GET ") or, for DNS, by
// port 53. Decoded connections are capped
// (MaxStreams); each direction buffers at most one HTTP header block
// (maxHeaderBytes), one TLS record (maxRecord) or handshake message
// (maxHandshake), or one DNS message; the reassembler buffers at most
// maxPagesPerConn pages of out-of-order data per connection and maxPages in
// all. Connections leave when both sides have sent FIN, on RST, or after
// idleTimeout without packets.
//
// Partial streams. A connection whose first captured packet is not a SYN
// began before the capture; a segment the capture missed leaves a hole.
// Both are marked (AppMessage.Partial), never guessed over: the HTTP decoder
// skips lost body bytes when the body length is known, and otherwise waits
// for the next line that starts a message; the TLS decoder stops at a hole.
// No input, however malformed, makes the decoder panic (see the fuzz tests).
package appdecode

import (
	"strconv"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/reassembly"

	"github.com/netlab/netlab/lab/decode"
)

// Limits that bound the decoder's memory.
const (
	// MaxStreams is how many TCP connections are decoded at once; later
	// ones are left undecoded (counted in Stats.Skipped).
	MaxStreams      = 256
	maxPagesPerConn = 64   // reassembly pages (1900 B each) of out-of-order data per connection
	maxPages        = 1024 // ... and in all
	flushEvery      = 10 * time.Second
	idleTimeout     = 2 * time.Minute
)

// Stats count what the decoder did.
type Stats struct {
	Streams  int // TCP connections decoded
	Skipped  int // application connections left undecoded (MaxStreams reached)
	Messages int // packets given an AppInfo
	Partial  int // ... of which partial
}

// Decoder names application messages. It is not safe for concurrent use
// (the engine calls it from the capture goroutine), except for its KeyLog.
type Decoder struct {
	keys  *KeyLog
	flows []uint8 // flow state by decode.Packet.Flow.Conv
	live  map[int]*stream
	pool  *reassembly.StreamPool
	asm   *reassembly.Assembler
	tcp   layers.TCP

	// cur is the packet being assembled: what streams emit while it is,
	// is attached to it. Nil during flushes (nothing to attach to).
	cur     *decode.Packet
	curKind kind // the classification of cur's connection, for New
	out     emitter

	lastFlush time.Time
	stats     Stats
}

// Flow states.
const (
	fsSeen uint8 = 1 << iota // fsSeen<<dir: a packet of that direction was seen
	_
	fsMid // fsMid<<dir: that direction's first packet was not a SYN: the capture began after its start
	_
	fsApp   // decoded
	fsOther // not decoded
	fsDone  // finished: later packets are ignored
)

// New returns a decoder. keys, if not nil, holds TLS secrets (from the
// run's own TLS stack) that let it name the TLS 1.3 messages that travel
// encrypted.
func New(keys *KeyLog) *Decoder {
	d := &Decoder{keys: keys, live: make(map[int]*stream)}
	d.pool = reassembly.NewStreamPool(factory{d})
	d.asm = reassembly.NewAssembler(d.pool)
	d.asm.MaxBufferedPagesPerConnection = maxPagesPerConn
	d.asm.MaxBufferedPagesTotal = maxPages
	return d
}

// Stats returns the counters so far.
func (d *Decoder) Stats() Stats { return d.stats }

// Add decodes what p carries, if anything, and sets p.App. t is the capture
// time. Packets must come in capture order, after lab/flow's Tracker.Add.
func (d *Decoder) Add(p *decode.Packet, t time.Time) {
	switch p.Proto {
	case decode.ProtoUDP:
		if p.PayloadLen > 0 && (isDNSPort(p.Src.Port()) || isDNSPort(p.Dst.Port())) {
			d.out.add(dnsMessage(p.Payload()))
			d.attach(p)
		}
	case decode.ProtoTCP:
		d.addTCP(p, t)
	}
}

func (d *Decoder) addTCP(p *decode.Packet, t time.Time) {
	if p.Flow.Conv <= 0 {
		return
	}
	for p.Flow.Conv >= len(d.flows) {
		d.flows = append(d.flows, 0)
	}
	st := d.flows[p.Flow.Conv]
	if st&fsDone != 0 && p.Flags&(decode.SYN|decode.ACK) == decode.SYN {
		st = 0 // a new connection on the same addresses and ports
	}
	if st&(fsOther|fsDone) != 0 {
		return
	}
	if dir := p.Flow.Dir & 1; st&(fsSeen<<dir) == 0 {
		st |= fsSeen << dir
		if p.Flags&decode.SYN == 0 {
			st |= fsMid << dir
		}
	}
	if st&fsApp == 0 {
		if p.PayloadLen == 0 {
			d.flows[p.Flow.Conv] = st
			return // classified on the first payload
		}
		k := classify(p.Payload(), p.Src.Port(), p.Dst.Port(), st&(fsMid|fsMid<<1) != 0)
		switch {
		case k == kindNone:
			d.flows[p.Flow.Conv] = st | fsOther
			return
		case len(d.live) >= MaxStreams:
			d.stats.Skipped++
			d.flows[p.Flow.Conv] = st | fsOther
			return
		}
		st |= fsApp
		d.curKind = k
	}
	d.flows[p.Flow.Conv] = st
	d.cur = p
	if s := d.live[p.Flow.Conv]; s != nil {
		s.handOver(&d.out) // what it named while another packet was current
		if s.lostSegment(p) && !s.finHole(p) {
			// p acknowledges bytes the capture never saw: they will not
			// come again. Push the data waiting behind them through before
			// p itself (it answers that data); the reassembler reports the
			// hole. This pushes other connections' waiting data too; what
			// they name goes on their own next packet.
			d.asm.FlushWithOptions(reassembly.FlushOptions{T: t.Add(time.Hour)})
		}
	}
	d.assemble(p, t)
	if s := d.live[p.Flow.Conv]; s != nil && p.Flags&decode.RST != 0 {
		s.finish()
	}
	d.cur, d.curKind = nil, kindNone
	d.attach(p)
	if t.Sub(d.lastFlush) > flushEvery {
		// Forget connections idle for long; what that pushes out belongs
		// to no packet and is dropped.
		d.lastFlush = t
		d.asm.FlushCloseOlderThan(t.Add(-idleTimeout))
	}
}

// assemble hands p (the current packet) to the reassembler.
func (d *Decoder) assemble(p *decode.Packet, t time.Time) {
	if p.TransportOffset <= 0 || p.TransportOffset >= len(p.Data) {
		return
	}
	if err := d.tcp.DecodeFromBytes(p.Data[p.TransportOffset:], gopacket.NilDecodeFeedback); err != nil {
		return
	}
	d.tcp.Payload = p.Payload() // without link-layer padding
	var nf gopacket.Flow
	if src, dst := p.Src.Addr(), p.Dst.Addr(); src.Is4() && dst.Is4() {
		a, b := src.As4(), dst.As4()
		nf = gopacket.NewFlow(layers.EndpointIPv4, a[:], b[:])
	} else {
		a, b := src.As16(), dst.As16()
		nf = gopacket.NewFlow(layers.EndpointIPv6, a[:], b[:])
	}
	// A context per packet: out-of-order data keeps it, so what a flush
	// delivers later can say which packet carried it.
	ac := &asmContext{ci: gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(p.Data), Length: p.Length}, n: p.N}
	d.asm.AssembleWithContext(nf, &d.tcp, ac)
}

// attach turns what was emitted for p into p.App.
func (d *Decoder) attach(p *decode.Packet) {
	info := d.out.info()
	if info == nil {
		return
	}
	p.App = info
	d.stats.Messages++
	if info.Partial() {
		d.stats.Partial++
	}
}

// done forgets a finished stream.
func (d *Decoder) done(s *stream) {
	if d.live[s.flow] == s {
		delete(d.live, s.flow)
	}
	if s.flow < len(d.flows) {
		d.flows[s.flow] |= fsDone
	}
}

// asmContext is what the reassembler keeps of a packet.
type asmContext struct {
	ci gopacket.CaptureInfo
	n  int // packet number
}

func (a *asmContext) GetCaptureInfo() gopacket.CaptureInfo { return a.ci }

// factory makes a stream for each connection the reassembler meets.
type factory struct{ d *Decoder }

func (f factory) New(_, _ gopacket.Flow, _ *layers.TCP, _ reassembly.AssemblerContext) reassembly.Stream {
	d := f.d
	if d.cur == nil || d.curKind == kindNone {
		return nil // a late packet of a finished connection
	}
	st := d.flows[d.cur.Flow.Conv]
	s := newStream(d, d.curKind, d.cur.Flow.Conv, [2]bool{st&fsMid != 0, st&(fsMid<<1) != 0})
	d.live[s.flow] = s
	d.stats.Streams++
	return s
}

// kind is what a connection carries.
type kind uint8

const (
	kindNone kind = iota
	kindHTTP
	kindTLS
	kindDNS
)

func isDNSPort(p uint16) bool { return p == 53 }

func httpPort(p uint16) bool { return p == 80 || p == 8000 || p == 8080 }

// classify decides from a connection's first payload what it carries, on
// evidence only, never on a prefix: a whole request line with a known
// method and HTTP/1.x, a status line (HTTP/1.x and a three-digit code), or
// a TLS handshake record header (version 3.x, a length a record can have)
// carrying a ClientHello or ServerHello. On a well-known HTTP port a
// request line may still be arriving ("GET " and no line end yet). A
// connection caught mid-way may start anywhere in a message: then the
// well-known ports decide.
func classify(b []byte, sport, dport uint16, mid bool) kind {
	web := httpPort(sport) || httpPort(dport)
	switch {
	case isDNSPort(sport) || isDNSPort(dport):
		return kindDNS
	case requestLine(b) || statusLine(b) || web && requestStart(b):
		return kindHTTP
	case tlsHello(b):
		return kindTLS
	case !mid:
		return kindNone
	case web:
		return kindHTTP
	case sport == 443 || dport == 443 || sport == 8443 || dport == 8443:
		return kindTLS
	}
	return kindNone
}

// tlsHello reports whether b starts with a TLS handshake record that
// carries a ClientHello or ServerHello.
func tlsHello(b []byte) bool {
	if len(b) < 6 || b[0] != recordHandshake || b[1] != 3 || b[2] > 4 {
		return false
	}
	n := int(b[3])<<8 | int(b[4])
	return n > 0 && n <= maxRecord && (b[5] == 1 || b[5] == 2)
}

// item is one thing a stream names on the current packet.
type item struct {
	proto   string
	summary string
	fields  map[string]string
	partial bool
}

// emitter collects the items of the current packet. gen counts packets:
// an item index is only valid in the generation it was added in.
type emitter struct {
	items []item
	gen   int
}

func (e *emitter) add(it item) int {
	e.items = append(e.items, it)
	return len(e.items) - 1
}

func (e *emitter) reset() {
	clear(e.items)
	e.items = e.items[:0]
	e.gen++
}

// info turns the items into one AppInfo (nil for none) and resets.
func (e *emitter) info() *decode.AppInfo {
	defer e.reset()
	if len(e.items) == 0 {
		return nil
	}
	info := &decode.AppInfo{Proto: e.items[0].proto, Messages: make([]decode.AppMessage, len(e.items))}
	for i, it := range e.items {
		info.Messages[i] = decode.AppMessage{Summary: it.summary, Fields: decode.FieldsOf(it.fields), Partial: it.partial}
	}
	return info
}

// stream is one decoded TCP connection. Its two directions are indexed by
// decode.Packet.Dir (0: sent by the connection's first endpoint).
type stream struct {
	d     *Decoder
	flow  int
	mid   [2]bool // by direction: its first bytes were sent before the capture began
	dirOf [2]struct {
		known bool
		dir   reassembly.TCPFlowDirection
	}
	halves [2]half
	ended  [2]bool
	over   bool
	// hole marks a direction whose data waits behind bytes the capture
	// has not seen; holeAt is the sequence number the peer's ACK must reach
	// to show it received them (so they will not come again).
	hole   [2]bool
	holeAt [2]uint32
	// finOnly marks a hole with nothing but the direction's FIN behind it:
	// the reassembler keeps no page for that, so no flush would report it.
	// finGap is the hole's size.
	finOnly [2]bool
	finGap  [2]int64
	// held is what the stream named while a packet of another connection
	// was current (a flush): it goes on this connection's next packet.
	held emitter
}

// maxHeld bounds the items a stream holds for its next packet.
const maxHeld = 64

// sink is where the stream's items go: the current packet if it is one of
// this connection's, else held for the next one.
func (s *stream) sink() *emitter {
	if p := s.d.cur; p != nil && p.Flow.Conv == s.flow {
		return &s.d.out
	}
	if len(s.held.items) > maxHeld {
		s.held.items = s.held.items[len(s.held.items)-maxHeld:]
	}
	return &s.held
}

// handOver moves held items to the current packet.
func (s *stream) handOver(out *emitter) {
	if len(s.held.items) == 0 {
		return
	}
	for _, it := range s.held.items {
		out.add(it)
	}
	s.held.reset()
}

// finHole ends the other direction of p when only its FIN waited behind
// the hole p proves lost, and reports whether it did.
func (s *stream) finHole(p *decode.Packet) bool {
	o := 1 - p.Flow.Dir&1
	if !s.finOnly[o] || s.ended[o] {
		return false
	}
	e := s.sink()
	s.halves[o].gap(int(max(s.finGap[o], -1)), e)
	s.halves[o].end(e)
	s.ended[o] = true
	return true
}

// lostSegment reports whether p acknowledges bytes of the other direction
// that the reassembler is still waiting for: the peer has them, so the
// capture lost them for good.
func (s *stream) lostSegment(p *decode.Packet) bool {
	o := 1 - p.Flow.Dir&1
	if !s.hole[o] || p.Flags&decode.ACK == 0 || int32(p.Ack-s.holeAt[o]) < 0 {
		return false
	}
	s.hole[o] = false
	return true
}

// half decodes one direction of a connection.
type half interface {
	// feed takes the next bytes in stream order.
	feed(b []byte, e *emitter)
	// gap says n bytes were lost before the next feed (n < 0: an unknown
	// number, as when the capture began mid-stream).
	gap(n int, e *emitter)
	// end says the direction is over (FIN or RST).
	end(e *emitter)
}

func newStream(d *Decoder, k kind, flow int, mid [2]bool) *stream {
	s := &stream{d: d, flow: flow, mid: mid}
	switch k {
	case kindHTTP:
		c := &httpConn{}
		s.halves = [2]half{c.half(), c.half()}
	case kindTLS:
		c := &tlsConn{keys: d.keys, clientDir: -1}
		s.halves = [2]half{c.half(0), c.half(1)}
	case kindDNS:
		s.halves = [2]half{&dnsStream{}, &dnsStream{}}
	}
	return s
}

// Accept takes every packet; it learns which reassembly direction is which
// of ours and where each direction's stream starts.
//
// The reassembler only sees a connection from its first payload on (the
// handshake is not handed over), so it is told where a direction begins:
// at the segment holding its first byte (relative sequence number 1, known
// from lab/flow, which saw the SYN). A later segment arriving first waits
// for it. On a connection caught mid-way nothing is known: decoding starts
// at the first packet and the direction is marked partial.
func (s *stream) Accept(tcp *layers.TCP, _ gopacket.CaptureInfo, dir reassembly.TCPFlowDirection, nextSeq reassembly.Sequence, start *bool, _ reassembly.AssemblerContext) bool {
	p := s.d.cur
	if p == nil {
		return true
	}
	i := p.Flow.Dir & 1
	d := &s.dirOf[i]
	if !d.known {
		d.known, d.dir = true, dir
		s.mid[i] = s.mid[i] || s.d.flows[s.flow]&(fsMid<<i) != 0
		if s.mid[i] {
			s.halves[i].gap(-1, s.sink())
		}
	}
	*start = s.mid[i] || p.Flow.RelSeq == 1 || p.Flags&decode.SYN != 0
	// Data that will wait behind bytes not seen (yet): note where the
	// peer's ACK would prove they were received.
	if (len(tcp.Payload) > 0 || tcp.FIN) && !s.hole[i] {
		switch {
		case nextSeq == -1 && !*start:
			// Its first bytes are missing: as many as lab/flow's relative
			// sequence number says (it saw the SYN).
			s.hole[i], s.holeAt[i] = true, tcp.Seq
			s.finOnly[i], s.finGap[i] = len(tcp.Payload) == 0, int64(p.Flow.RelSeq)-1
		case nextSeq != -1 && int32(tcp.Seq-uint32(nextSeq)) > 0:
			s.hole[i], s.holeAt[i] = true, uint32(nextSeq)+1
			s.finOnly[i], s.finGap[i] = len(tcp.Payload) == 0, int64(tcp.Seq-uint32(nextSeq))
		}
	}
	return true
}

// ReassembledSG receives the next in-order bytes of one direction.
func (s *stream) ReassembledSG(sg reassembly.ScatterGather, ac reassembly.AssemblerContext) {
	if s.over {
		return
	}
	n, _ := sg.Lengths()
	dir, _, end, skip := sg.Info()
	i := s.index(dir)
	if s.ended[i] {
		return
	}
	h, e := s.halves[i], s.sink()
	before := len(e.items)
	switch {
	case skip > 0:
		h.gap(skip, e)
	case skip < 0 && !s.mid[i]:
		// Pushed through before its first bytes ever came: lost.
		h.gap(-1, e)
	}
	if n > 0 {
		h.feed(sg.Fetch(n), e)
	}
	if end {
		s.ended[i] = true
		h.end(e)
	}
	// Bytes that waited behind a hole and were pushed through while
	// another packet is current: say which packet carried them.
	if c, ok := ac.(*asmContext); ok && s.d.cur != nil && c.n != s.d.cur.N {
		for j := before; j < len(e.items); j++ {
			e.items[j].summary += " (bytes of packet " + strconv.Itoa(c.n) + ")"
		}
	}
}

func (s *stream) index(dir reassembly.TCPFlowDirection) int {
	for i, d := range s.dirOf {
		if d.known && d.dir == dir {
			return i
		}
	}
	if s.d.cur != nil {
		return int(s.d.cur.Flow.Dir & 1)
	}
	return 0
}

// ReassemblyComplete ends both directions; the connection leaves the pool.
func (s *stream) ReassemblyComplete(_ reassembly.AssemblerContext) bool {
	s.finish()
	return true
}

// finish ends whatever direction is still open and forgets the stream.
func (s *stream) finish() {
	if s.over {
		return
	}
	for i, h := range s.halves {
		if !s.ended[i] {
			s.ended[i] = true
			h.end(s.sink())
		}
	}
	s.over = true
	s.d.done(s)
}
