package labtest

import (
	"encoding/gob"
	"os"
	"testing"

	"github.com/netlab/netlab/lab/timeline"
)

// Recording is a finished run as a worker sent it, kept in testdata as
// encoding/gob (*.timeline.gob): views are tested on real runs without a
// sandbox.
type Recording struct {
	Meta    timeline.Meta
	Events  []timeline.Event
	Summary timeline.Summary
}

// Recorded loads a recording as a closed timeline.
func Recorded(t testing.TB, path string) *timeline.Timeline {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rec Recording
	if err := gob.NewDecoder(f).Decode(&rec); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	// gob decodes by field name: a field that moved since the recording
	// was made decodes as zero, silently. Every recording has packets
	// with a conversation and lanes; one without them is stale.
	annotated := false
	for _, e := range rec.Events {
		if p := e.Packet; p != nil && p.Flow.Conv != 0 && p.Lab.From != "" {
			annotated = true
			break
		}
	}
	if !annotated {
		t.Fatalf("%s: no packet has flow and lab annotations: the recording predates a move of decode.Packet's fields; convert or re-record it", path)
	}
	tl := timeline.New(rec.Meta)
	tl.Append(rec.Events...)
	tl.Close(rec.Summary)
	return tl
}

// Record writes a finished timeline as a recording.
func Record(path string, tl *timeline.Timeline) error {
	rec := Recording{Meta: tl.Meta()}
	rec.Summary, _ = tl.Closed()
	tl.All(func(e *timeline.Event) bool { rec.Events = append(rec.Events, *e); return true })
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(f).Encode(rec); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
