package timeline

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestAppendNumbersAndChunks(t *testing.T) {
	tl := New(Meta{Scenario: "x"})
	const n = 3*chunkSize + 7
	for i := 0; i < n; i++ {
		tl.Append(Event{Kind: KindNote, Note: &Note{}})
	}
	if tl.Len() != n {
		t.Fatalf("len %d", tl.Len())
	}
	for _, i := range []int{0, chunkSize - 1, chunkSize, n - 1} {
		if e := tl.At(i); e == nil || e.ID != i+1 {
			t.Fatalf("At(%d) = %+v", i, e)
		}
	}
	if tl.At(n) != nil || tl.At(-1) != nil {
		t.Fatal("At out of range must be nil")
	}
	count := 0
	tl.Range(chunkSize-2, chunkSize+2, func(e *Event) bool { count++; return true })
	if count != 4 {
		t.Fatalf("range visited %d", count)
	}
}

// TestFollowWhileAppending: a reader following the timeline sees every event
// once, in order, while a writer appends (run with -race).
func TestFollowWhileAppending(t *testing.T) {
	tl := New(Meta{})
	const n = 10000
	var wg sync.WaitGroup
	wg.Add(1)
	var got []int
	go func() {
		defer wg.Done()
		tl.Follow(context.Background(), func(e *Event) { got = append(got, e.ID) })
	}()
	for i := 0; i < n; i++ {
		tl.Append(Event{Kind: KindNote, Note: &Note{}})
	}
	tl.Close(Summary{Packets: 1})
	wg.Wait()
	if len(got) != n {
		t.Fatalf("followed %d events, want %d", len(got), n)
	}
	for i, id := range got {
		if id != i+1 {
			t.Fatalf("event %d has id %d", i, id)
		}
	}
	if s, ok := tl.Closed(); !ok || s.Packets != 1 {
		t.Fatalf("closed %v %+v", ok, s)
	}
}

func TestWaitHonoursContext(t *testing.T) {
	tl := New(Meta{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	n, closed := tl.Wait(ctx, 0)
	if n != 0 || closed {
		t.Fatalf("Wait = %d %v", n, closed)
	}
}

func TestSocketString(t *testing.T) {
	tests := []struct {
		s    Socket
		want string
	}{
		{Socket{Local: mustAP("127.0.0.1:8888")}, "127.0.0.1:8888->*"},
		{Socket{Local: mustAP("127.0.0.1:5000"), Remote: mustAP("127.0.0.1:8888")}, "127.0.0.1:5000->127.0.0.1:8888"},
	}
	for _, tc := range tests {
		if got := tc.s.String(); got != tc.want {
			t.Errorf("%q, want %q", got, tc.want)
		}
	}
}
