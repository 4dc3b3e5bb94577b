package runner

import (
	"errors"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/sandbox"
	"github.com/netlab/netlab/lab/timeline"
)

// TestConclude pins how a worker's end becomes the run's summary and error,
// including a worker that died without its last word.
func TestConclude(t *testing.T) {
	tests := []struct {
		name        string
		got         received
		waitErr     error
		interrupted bool
		stderr      string
		want        timeline.Summary
		wantErr     string
		wantSandbox bool
	}{
		{
			name: "completed",
			got:  received{packets: 3, last: &end{Packets: 5, Drops: 1, Err: "boom", KeyLog: []byte("k")}},
			want: timeline.Summary{Packets: 5, Drops: 1, Err: "boom", TLSKeyLog: []byte("k")},
		},
		{
			name: "interrupted worker",
			got:  received{packets: 3, last: &end{Packets: 4, Code: 130}},
			want: timeline.Summary{Packets: 4, Interrupted: true},
		},
		{
			name:        "cannot capture",
			got:         received{last: &end{Fatal: "no AF_PACKET", Fix: []string{"run as root"}, Code: 3}},
			want:        timeline.Summary{Drops: 7},
			wantErr:     "netlab cannot capture packets here: no AF_PACKET\nfix (any one):\n  run as root",
			wantSandbox: true,
		},
		{
			name:    "bad request",
			got:     received{last: &end{Fatal: "bad worker request", Code: 2}},
			want:    timeline.Summary{Drops: 7},
			wantErr: "bad worker request",
		},
		{
			name:    "killed: counts what arrived",
			got:     received{packets: 3, err: errors.New("unexpected EOF")},
			waitErr: errors.New("signal: killed"),
			stderr:  " panic: x\n",
			want:    timeline.Summary{Packets: 3, Drops: 7},
			wantErr: "worker failed: signal: killed (event stream: unexpected EOF)\npanic: x",
		},
		{
			name:    "silent exit",
			got:     received{},
			want:    timeline.Summary{Drops: 7},
			wantErr: "worker exited without a result",
		},
		{
			name:        "stopped before its last word",
			got:         received{packets: 2},
			waitErr:     errors.New("signal: killed"),
			interrupted: true,
			want:        timeline.Summary{Packets: 2, Drops: 7, Interrupted: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Run{stderr: &capped{max: 64}, interrupted: tt.interrupted, live: stats{Packets: 9, Drops: 7}}
			r.stderr.Write([]byte(tt.stderr))
			tt.got.lastTime = time.Now()
			sum, err := r.conclude(tt.got, tt.waitErr)
			if got, want := sum.Packets, tt.want.Packets; got != want {
				t.Errorf("Packets = %d, want %d", got, want)
			}
			if sum.Drops != tt.want.Drops || sum.Err != tt.want.Err || sum.Interrupted != tt.want.Interrupted || string(sum.TLSKeyLog) != string(tt.want.TLSKeyLog) {
				t.Errorf("summary = %+v, want %+v", sum, tt.want)
			}
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if gotErr != tt.wantErr {
				t.Errorf("err = %q, want %q", gotErr, tt.wantErr)
			}
			var se *sandbox.Error
			if errors.As(err, &se) != tt.wantSandbox {
				t.Errorf("err %v: *sandbox.Error %v, want %v", err, !tt.wantSandbox, tt.wantSandbox)
			}
			if tt.wantSandbox && (len(se.Fix) != 1 || se.Fix[0] != "run as root") {
				t.Errorf("Fix = %q", se.Fix)
			}
		})
	}
}
