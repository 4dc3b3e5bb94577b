package check

import (
	"strings"

	"github.com/netlab/netlab/lab/decode"
)

// Filter keeps the packets that match every one of its words: the
// grammar of the dashboard's / filter and of an exercise's count. A word
// is a lane ("client" or "from:client": sent by it; "to:client": sent to
// it), a protocol ("tcp", "udp", "icmp", "arp"), TCP flags ("syn", "fin",
// "syn,ack": all of them set) or text found in the packet's summary or
// addresses ("8888", "len=5"). A leading "!" negates a word. So "client
// syn" is the client's SYNs, not the server's SYN,ACK to it, and "syn
// !ack" every SYN that opens a connection.
type Filter struct {
	text  string
	terms []filterTerm
}

type filterTerm struct {
	word  string
	neg   bool
	proto decode.Proto
	flags decode.Flags
	kind  uint8 // termText, termLane, termProto, termFlags
}

const (
	termText   uint8 = iota
	termLane         // sent by the lane
	termLaneTo       // sent to the lane
	termProto
	termFlags
)

// ParseFilter reads a filter line; nil for an empty one.
func ParseFilter(text string, lanes []string) *Filter {
	f := &Filter{text: strings.TrimSpace(text)}
	for _, w := range strings.Fields(strings.ToLower(text)) {
		t := filterTerm{word: w}
		if strings.HasPrefix(w, "!") && len(w) > 1 {
			t.neg, t.word = true, w[1:]
		}
		switch t.word {
		case "tcp":
			t.kind, t.proto = termProto, decode.ProtoTCP
		case "udp":
			t.kind, t.proto = termProto, decode.ProtoUDP
		case "icmp":
			t.kind, t.proto = termProto, decode.ProtoICMP
		case "arp":
			t.kind, t.proto = termProto, decode.ProtoARP
		default:
			name, kind := t.word, termLane
			if n, ok := strings.CutPrefix(name, "from:"); ok {
				name = n
			} else if n, ok := strings.CutPrefix(name, "to:"); ok {
				name, kind = n, termLaneTo
			}
			for _, l := range lanes {
				if strings.EqualFold(l, name) {
					t.kind, t.word = kind, name
				}
			}
			if t.kind == termText {
				if fl, ok := decode.ParseFlags(t.word); ok && fl != 0 {
					t.kind, t.flags = termFlags, fl
				}
			}
		}
		f.terms = append(f.terms, t)
	}
	if len(f.terms) == 0 {
		return nil
	}
	return f
}

// Text is the filter as typed.
func (f *Filter) Text() string { return f.text }

// Guesses are the words read as text to find that look like misspelt
// names rather than text (letters only: "synn", "clinet"): a grader in a
// file refuses them, where the dashboard's search would silently match
// nothing.
func (f *Filter) Guesses() []string {
	var out []string
	for _, t := range f.terms {
		if t.kind == termText && strings.Trim(t.word, "abcdefghijklmnopqrstuvwxyz") == "" {
			out = append(out, t.word)
		}
	}
	return out
}

// Match reports whether p matches every word.
func (f *Filter) Match(p *decode.Packet) bool {
	var text string // built once, only for text words
	for _, t := range f.terms {
		var ok bool
		switch t.kind {
		case termProto:
			ok = p.Proto == t.proto
		case termLane:
			ok = strings.EqualFold(p.Lab.From, t.word)
		case termLaneTo:
			ok = strings.EqualFold(p.Lab.To, t.word)
		case termFlags:
			ok = p.Proto == decode.ProtoTCP && p.Flags.Has(t.flags)
		default:
			if text == "" {
				text = strings.ToLower(p.Summary() + " " + p.Src.String() + " " + p.Dst.String() + " " + p.Lab.From + " " + p.Lab.To)
			}
			ok = strings.Contains(text, t.word)
		}
		if ok == t.neg {
			return false
		}
	}
	return true
}
