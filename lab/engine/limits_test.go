package engine

import (
	"context"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/appdecode"
	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/timeline"
)

// capture runs capturePackets over a recorded run with the given limits and
// returns what the merger emitted.
func captureFile(t *testing.T, path string, lim Limits) (int, []timeline.Event) {
	t.Helper()
	src, err := capture.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dec, err := decode.NewDecoder(src.LinkType())
	if err != nil {
		t.Fatal(err)
	}
	m, out := newTestMerger()
	done := make(chan struct{})
	go func() { m.run(); close(done) }()
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // a file ends with io.EOF: read it all, then stop
	n, err := capturePackets(ctx, src, newFollower(dec, appdecode.New(nil), m, lim.withDefaults()), &dropMarker{})
	close(m.in)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	return n, *out
}

// TestCaptureLimits: a run keeps whole packets up to its byte budget, then
// headers only, and says so once on the timeline.
func TestCaptureLimits(t *testing.T) {
	const file = "../appdecode/testdata/http.pcapng"
	_, all := captureFile(t, file, Limits{})
	var sizes []int
	for _, e := range all {
		if e.Kind == timeline.KindPacket {
			sizes = append(sizes, len(e.Packet.Data))
		}
	}
	if len(sizes) < 20 {
		t.Fatalf("fixture has %d packets, want at least 20", len(sizes))
	}
	first10 := 0
	for _, s := range sizes[:10] {
		first10 += s
	}
	tests := []struct {
		name     string
		lim      Limits
		whole    int // packets kept whole
		recorded int
		wantNote string
	}{
		{"defaults keep everything", Limits{}, len(sizes), len(sizes), ""},
		{"byte budget", Limits{Bytes: first10}, 10, len(sizes), "from packet 11 on only headers are kept"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, evs := captureFile(t, file, tt.lim)
			if n != len(sizes) {
				t.Errorf("read %d packets, want %d", n, len(sizes))
			}
			var recorded, trimmed int
			var notes []string
			for _, e := range evs {
				switch e.Kind {
				case timeline.KindNote:
					notes = append(notes, e.Note.Text.En)
				case timeline.KindPacket:
					p, i := e.Packet, recorded
					recorded++
					want := sizes[i] // the whole frame
					if i >= tt.whole {
						want = min(want, p.PayloadOffset) // its headers
					}
					if len(p.Data) != want {
						t.Errorf("packet %d: %d of %d bytes kept, want %d", p.N, len(p.Data), sizes[i], want)
					}
					if len(p.Data) < sizes[i] {
						trimmed++
					}
				}
			}
			if recorded != tt.recorded {
				t.Errorf("recorded %d packets, want %d", recorded, tt.recorded)
			}
			if tt.whole < tt.recorded && trimmed == 0 {
				t.Error("no packet lost its payload to the byte budget")
			}
			switch {
			case tt.wantNote == "" && len(notes) > 0:
				t.Errorf("notes %q, want none", notes)
			case tt.wantNote != "" && (len(notes) != 1 || !strings.Contains(notes[0], tt.wantNote)):
				t.Errorf("notes %q, want one saying %q", notes, tt.wantNote)
			}
		})
	}
}

// TestCapEvents: packets and calls past the cap are not kept, states and
// narration still are, and the cap is said once.
func TestCapEvents(t *testing.T) {
	var got []string
	emit := capEvents(3, func(e timeline.Event) {
		if e.Kind == timeline.KindNote {
			got = append(got, "note:"+e.Note.Text.En)
		} else {
			got = append(got, e.Kind.String())
		}
	})
	for _, k := range []timeline.Kind{timeline.KindPacket, timeline.KindApp, timeline.KindState, timeline.KindPacket, timeline.KindPacket, timeline.KindApp, timeline.KindState} {
		ev := timeline.Event{Kind: k}
		switch k {
		case timeline.KindPacket:
			ev.Packet = &decode.Packet{}
		case timeline.KindApp:
			ev.App = &timeline.App{}
		case timeline.KindState:
			ev.State = &timeline.State{}
		}
		emit(ev)
	}
	want := []string{"packet", "app", "state", "packet", "note:limit: 3 packets and calls recorded; later ones are not kept", "state"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("emitted\n %q\nwant\n %q", got, want)
	}
}
