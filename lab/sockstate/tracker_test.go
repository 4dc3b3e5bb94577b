package sockstate

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/netlab/netlab/lab/tcpstate"
)

// row builds a Socket for tracker tests.
func row(local, remote string, state tcpstate.State, cookie uint64, opts ...func(*Socket)) Socket {
	s := Socket{
		Local:  netip.MustParseAddrPort(local),
		Remote: netip.MustParseAddrPort(remote),
		State:  state,
		Cookie: cookie,
	}
	for _, o := range opts {
		o(&s)
	}
	return s
}

func withTimer(t tcpstate.Timer, expires time.Duration) func(*Socket) {
	return func(s *Socket) { s.Timer, s.Expires = t, expires }
}

func withInfo(s *Socket) { s.Info = &TCPInfo{SndCwnd: 10} }

func withQueues(rq, wq uint32) func(*Socket) {
	return func(s *Socket) { s.RecvQ, s.SendQ = rq, wq }
}

// fmtChange renders a Change compactly for comparisons.
func fmtChange(c Change) string {
	s := fmt.Sprintf("%s>%s %s-%s #%d", c.From, c.To, c.Socket.Local, c.Socket.Remote, c.Socket.Cookie)
	if c.Socket.State == tcpstate.Listen {
		s += fmt.Sprintf(" q=%d", c.Socket.RecvQ)
	}
	if c.Gone {
		s += " gone"
	}
	return s
}

func TestTrackerChanges(t *testing.T) {
	const (
		cli  = "127.0.0.1:40000"
		srv  = "127.0.0.1:80"
		wild = "0.0.0.0:0"
	)
	est, syn, tw := tcpstate.Established, tcpstate.NewSynRecv, tcpstate.TimeWait
	tests := []struct {
		name  string
		dumps [][]Socket
		want  [][]string // per dump
	}{
		{
			name: "first dump reports everything, sorted",
			dumps: [][]Socket{{
				row(srv, cli, est, 3),
				row(cli, srv, est, 2),
				row(srv, wild, tcpstate.Listen, 1),
			}},
			want: [][]string{{
				"CLOSED>LISTEN 127.0.0.1:80-0.0.0.0:0 #1 q=0",
				"CLOSED>ESTABLISHED 127.0.0.1:80-127.0.0.1:40000 #3",
				"CLOSED>ESTABLISHED 127.0.0.1:40000-127.0.0.1:80 #2",
			}},
		},
		{
			name: "state change, same cookie, then timewait keeps the cookie, then gone",
			dumps: [][]Socket{
				{row(cli, srv, est, 2)},
				{row(cli, srv, tcpstate.FinWait1, 2, withTimer(tcpstate.TimerRetrans, 200*time.Millisecond))},
				{row(cli, srv, tcpstate.FinWait2, 2)},
				{row(cli, srv, tw, 2, withTimer(tcpstate.TimerTimeWait, time.Minute))},
				{row(cli, srv, tw, 2, withTimer(tcpstate.TimerTimeWait, 59*time.Second))},
				{},
			},
			want: [][]string{
				{"CLOSED>ESTABLISHED 127.0.0.1:40000-127.0.0.1:80 #2"},
				{"ESTABLISHED>FIN-WAIT-1 127.0.0.1:40000-127.0.0.1:80 #2"},
				{"FIN-WAIT-1>FIN-WAIT-2 127.0.0.1:40000-127.0.0.1:80 #2"},
				{"FIN-WAIT-2>TIME-WAIT 127.0.0.1:40000-127.0.0.1:80 #2"},
				nil, // only Expires changed
				{"TIME-WAIT>CLOSED 127.0.0.1:40000-127.0.0.1:80 #2 gone"},
			},
		},
		{
			name: "new cookie on the same tuple is a new connection",
			dumps: [][]Socket{
				{row(srv, cli, tw, 7, withTimer(tcpstate.TimerTimeWait, time.Second))},
				{row(srv, cli, syn, 8, withTimer(tcpstate.TimerRetrans, time.Second))},
			},
			want: [][]string{
				{"CLOSED>TIME-WAIT 127.0.0.1:80-127.0.0.1:40000 #7"},
				{
					"TIME-WAIT>CLOSED 127.0.0.1:80-127.0.0.1:40000 #7 gone",
					"CLOSED>SYN-RECEIVED 127.0.0.1:80-127.0.0.1:40000 #8",
				},
			},
		},
		{
			name: "request socket replaced by its child is a state change",
			dumps: [][]Socket{
				{row(srv, cli, syn, 8, withTimer(tcpstate.TimerRetrans, time.Second))},
				{row(srv, cli, est, 9, withTimer(tcpstate.TimerKeepalive, time.Hour))},
			},
			want: [][]string{
				{"CLOSED>SYN-RECEIVED 127.0.0.1:80-127.0.0.1:40000 #8"},
				{"SYN-RECEIVED>ESTABLISHED 127.0.0.1:80-127.0.0.1:40000 #9"},
			},
		},
		{
			name: "request socket replaced by its child, cookie copied (what Linux does)",
			dumps: [][]Socket{
				{row(srv, cli, tcpstate.SynReceived, 8, withTimer(tcpstate.TimerRetrans, time.Second))},
				{row(srv, cli, est, 8, withInfo)},
			},
			want: [][]string{
				{"CLOSED>SYN-RECEIVED 127.0.0.1:80-127.0.0.1:40000 #8"},
				{"SYN-RECEIVED>ESTABLISHED 127.0.0.1:80-127.0.0.1:40000 #8"},
			},
		},
		{
			name: "full socket in SYN-RECEIVED replaced by a new cookie is a new connection",
			dumps: [][]Socket{
				{row(srv, cli, tcpstate.SynReceived, 8, withInfo)},
				{row(srv, cli, est, 9, withInfo)},
			},
			want: [][]string{
				{"CLOSED>SYN-RECEIVED 127.0.0.1:80-127.0.0.1:40000 #8"},
				{
					"SYN-RECEIVED>CLOSED 127.0.0.1:80-127.0.0.1:40000 #8 gone",
					"CLOSED>ESTABLISHED 127.0.0.1:80-127.0.0.1:40000 #9",
				},
			},
		},
		{
			name: "child still in SYN-RECEIVED is no change",
			dumps: [][]Socket{
				{row(srv, cli, syn, 8)},
				{row(srv, cli, tcpstate.SynReceived, 9, withInfo)},
				{row(srv, cli, est, 9, withInfo)},
			},
			want: [][]string{
				{"CLOSED>SYN-RECEIVED 127.0.0.1:80-127.0.0.1:40000 #8"},
				nil,
				{"SYN-RECEIVED>ESTABLISHED 127.0.0.1:80-127.0.0.1:40000 #9"},
			},
		},
		{
			name: "listener accept queue",
			dumps: [][]Socket{
				{row(srv, wild, tcpstate.Listen, 1, withQueues(0, 1))},
				{row(srv, wild, tcpstate.Listen, 1, withQueues(1, 1))},
				{row(srv, wild, tcpstate.Listen, 1, withQueues(1, 1))},
				{row(srv, wild, tcpstate.Listen, 1, withQueues(2, 1))},
				{row(srv, wild, tcpstate.Listen, 1, withQueues(2, 5))}, // backlog raised: not reported
				{row(srv, wild, tcpstate.Listen, 1, withQueues(0, 5))},
			},
			want: [][]string{
				{"CLOSED>LISTEN 127.0.0.1:80-0.0.0.0:0 #1 q=0"},
				{"LISTEN>LISTEN 127.0.0.1:80-0.0.0.0:0 #1 q=1"},
				nil,
				{"LISTEN>LISTEN 127.0.0.1:80-0.0.0.0:0 #1 q=2"},
				nil,
				{"LISTEN>LISTEN 127.0.0.1:80-0.0.0.0:0 #1 q=0"},
			},
		},
		{
			name: "timer kinds; retransmit timer and expiry ignored",
			dumps: [][]Socket{
				{row(cli, srv, est, 2)},
				{row(cli, srv, est, 2, withTimer(tcpstate.TimerRetrans, 200*time.Millisecond))},
				{row(cli, srv, est, 2)},
				{row(cli, srv, est, 2, withTimer(tcpstate.TimerKeepalive, time.Hour))},
				{row(cli, srv, est, 2, withTimer(tcpstate.TimerKeepalive, time.Minute))},
				{row(cli, srv, est, 2, withTimer(tcpstate.TimerProbe, time.Second))},
				{row(cli, srv, est, 2, withTimer(tcpstate.TimerRetrans, time.Second))},
				{row(cli, srv, est, 2, withTimer(tcpstate.TimerRetrans, 2*time.Second))},
			},
			want: [][]string{
				{"CLOSED>ESTABLISHED 127.0.0.1:40000-127.0.0.1:80 #2"},
				nil,
				nil,
				{"ESTABLISHED>ESTABLISHED 127.0.0.1:40000-127.0.0.1:80 #2"},
				nil,
				{"ESTABLISHED>ESTABLISHED 127.0.0.1:40000-127.0.0.1:80 #2"},
				{"ESTABLISHED>ESTABLISHED 127.0.0.1:40000-127.0.0.1:80 #2"},
				nil,
			},
		},
		{
			name: "the handshake's retransmission timer counts (a dump may land before connect arms it)",
			dumps: [][]Socket{
				{row(cli, srv, tcpstate.SynSent, 3)},
				{row(cli, srv, tcpstate.SynSent, 3, withTimer(tcpstate.TimerRetrans, time.Second))},
				{row(cli, srv, tcpstate.SynSent, 3, withTimer(tcpstate.TimerRetrans, 500*time.Millisecond))},
			},
			want: [][]string{
				{"CLOSED>SYN-SENT 127.0.0.1:40000-127.0.0.1:80 #3"},
				{"SYN-SENT>SYN-SENT 127.0.0.1:40000-127.0.0.1:80 #3"},
				nil,
			},
		},
		{
			name: "reuseport listeners are told apart by cookie",
			dumps: [][]Socket{
				{row(srv, wild, tcpstate.Listen, 11), row(srv, wild, tcpstate.Listen, 10)},
				{row(srv, wild, tcpstate.Listen, 11, withQueues(1, 0)), row(srv, wild, tcpstate.Listen, 12)},
			},
			want: [][]string{
				{"CLOSED>LISTEN 127.0.0.1:80-0.0.0.0:0 #10 q=0", "CLOSED>LISTEN 127.0.0.1:80-0.0.0.0:0 #11 q=0"},
				{
					"LISTEN>CLOSED 127.0.0.1:80-0.0.0.0:0 #10 q=0 gone",
					"LISTEN>LISTEN 127.0.0.1:80-0.0.0.0:0 #11 q=1",
					"CLOSED>LISTEN 127.0.0.1:80-0.0.0.0:0 #12 q=0",
				},
			},
		},
		{
			name: "a row listed twice by a non-atomic dump counts once",
			dumps: [][]Socket{
				{row(cli, srv, est, 2), row(cli, srv, est, 2)},
			},
			want: [][]string{{"CLOSED>ESTABLISHED 127.0.0.1:40000-127.0.0.1:80 #2"}},
		},
		{
			name: "v6 and v4 order",
			dumps: [][]Socket{
				{row("[::1]:80", "[::]:0", tcpstate.Listen, 1), row(srv, wild, tcpstate.Listen, 2)},
			},
			want: [][]string{{
				"CLOSED>LISTEN 127.0.0.1:80-0.0.0.0:0 #2 q=0",
				"CLOSED>LISTEN [::1]:80-[::]:0 #1 q=0",
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tr tracker
			for i, d := range tt.dumps {
				now := time.Unix(int64(i), 0)
				tr.next = append(tr.next[:0], d...)
				var got []string
				tr.update(now, func(c Change) {
					if !c.Time.Equal(now) {
						t.Errorf("dump %d: Time = %v, want %v", i, c.Time, now)
					}
					if c.Gone != (c.To == tcpstate.Closed) {
						t.Errorf("dump %d: Gone = %v with To = %v", i, c.Gone, c.To)
					}
					got = append(got, fmtChange(c))
				})
				if !slices.Equal(got, tt.want[i]) {
					t.Errorf("dump %d: changes\n%q, want\n%q", i, got, tt.want[i])
				}
			}
		})
	}
}

// TestTrackerNoAlloc checks that a steady-state diff allocates nothing.
func TestTrackerNoAlloc(t *testing.T) {
	var tr tracker
	dump := []Socket{
		row("127.0.0.1:80", "0.0.0.0:0", tcpstate.Listen, 1),
		row("127.0.0.1:80", "127.0.0.1:40000", tcpstate.Established, 2),
		row("127.0.0.1:40000", "127.0.0.1:80", tcpstate.Established, 3),
	}
	emit := func(Change) {}
	allocs := testing.AllocsPerRun(100, func() {
		tr.next = append(tr.next[:0], dump...)
		tr.update(time.Time{}, emit)
	})
	if allocs != 0 {
		t.Errorf("tracker.update allocates %v times per run, want 0", allocs)
	}
}

// TestTrackerWatchesInfo: with Watch set, a socket whose state holds but
// whose watched tcp_info values change is reported (InfoOnly); a change of
// an unwatched value, or no Watch at all, reports nothing.
func TestTrackerWatchesInfo(t *testing.T) {
	info := func(cwnd uint32, rtt time.Duration) func(*Socket) {
		return func(s *Socket) { s.Info = &TCPInfo{Size: TCPInfoSize5_4, SndCwnd: cwnd, RTT: rtt} }
	}
	est := tcpstate.Established
	base := row("127.0.0.1:40000", "127.0.0.1:80", est, 1, info(10, time.Millisecond))
	tests := []struct {
		name  string
		watch Watched
		next  Socket
		want  int // InfoOnly changes
	}{
		{"cwnd grows, watched", WatchCwnd, row("127.0.0.1:40000", "127.0.0.1:80", est, 1, info(20, time.Millisecond)), 1},
		{"rtt moves, only cwnd watched", WatchCwnd, row("127.0.0.1:40000", "127.0.0.1:80", est, 1, info(10, 2*time.Millisecond)), 0},
		{"cwnd grows, nothing watched", 0, row("127.0.0.1:40000", "127.0.0.1:80", est, 1, info(20, time.Millisecond)), 0},
		{"nothing changed", WatchAll, row("127.0.0.1:40000", "127.0.0.1:80", est, 1, info(10, time.Millisecond)), 0},
	}
	for _, tc := range tests {
		tr := tracker{watch: tc.watch}
		var got []Change
		tr.next = []Socket{base}
		tr.update(time.Unix(1, 0), func(c Change) {})
		tr.next = append(tr.next[:0], tc.next)
		tr.update(time.Unix(2, 0), func(c Change) { got = append(got, c) })
		n := 0
		for _, c := range got {
			if !c.InfoOnly || c.From != est || c.To != est || c.Socket.Info == nil {
				t.Errorf("%s: unexpected change %+v", tc.name, c)
				continue
			}
			n++
		}
		if n != tc.want {
			t.Errorf("%s: %d info changes, want %d", tc.name, n, tc.want)
		}
	}
}
