package engine

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/capture"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/timeline"
)

// TestReplayKeepsWhatWasRead: a file whose last record is cut short gives a
// timeline with every packet before it, a note saying where the damage is,
// and an error wrapping capture.ErrMalformed. Before, Replay returned no
// timeline at all.
func TestReplayKeepsWhatWasRead(t *testing.T) {
	for _, name := range []string{"lo-hello.pcapng", "lo-hello.pcap"} {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile("../capture/testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			count := func(b []byte) (*timeline.Timeline, error) {
				src, err := capture.NewReader(bytes.NewReader(b))
				if err != nil {
					t.Fatal(err)
				}
				return Replay(src, timeline.Meta{})
			}
			whole, err := count(data)
			if err != nil {
				t.Fatal(err)
			}
			all, _ := whole.Closed()
			if all.Packets < 2 {
				t.Fatalf("fixture has %d packets", all.Packets)
			}
			tl, err := count(data[:len(data)-10])
			if !errors.Is(err, capture.ErrMalformed) {
				t.Fatalf("error %v, want one wrapping ErrMalformed", err)
			}
			if tl == nil {
				t.Fatal("no timeline: the packets before the damage were thrown away")
			}
			sum, closed := tl.Closed()
			if !closed || sum.Packets != all.Packets-1 || sum.Err == "" {
				t.Fatalf("summary %+v (closed %v), want %d packets and the damage", sum, closed, all.Packets-1)
			}
			var last *timeline.Event
			tl.All(func(e *timeline.Event) bool { last = e; return true })
			if last.Kind != timeline.KindNote || !strings.Contains(last.Note.Text.In(i18n.En), "damaged after packet") ||
				!strings.Contains(last.Note.Text.In(i18n.Zh), "损坏") || !strings.Contains(sum.Err, "packet") {
				t.Fatalf("last event %+v, summary error %q: the damage is not reported", last, sum.Err)
			}
			t.Logf("%s cut by 10 bytes: %d of %d packets kept; %s", name, sum.Packets, all.Packets, sum.Err)
		})
	}
}
