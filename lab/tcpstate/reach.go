package tcpstate

// next lists, for each state, the states one step of RFC 9293's diagram
// leads to (figure 5, plus the aborts: every state can reach CLOSED by
// RST or by a timeout). Listen's SYN-RECEIVED is the connection's own
// socket, which Linux creates from the listener.
var next = [...][]State{
	Listen:      {SynReceived, SynSent, Closed},
	SynSent:     {SynReceived, Established, Closed},
	SynReceived: {Established, FinWait1, CloseWait, Closed},
	Established: {FinWait1, CloseWait, Closed},
	FinWait1:    {FinWait2, Closing, TimeWait, Closed},
	FinWait2:    {TimeWait, Closed},
	Closing:     {TimeWait, Closed},
	CloseWait:   {LastAck, Closed},
	LastAck:     {Closed},
	TimeWait:    {Closed},
	Closed:      nil, // terminal: a socket that closed never opens again
}

// reach[s] has bit t set when t is reachable from s in zero or more steps.
var reach = func() (r [len(names)]uint16) {
	for s := range next {
		seen := uint16(1) << s
		stack := []State{State(s)}
		for len(stack) > 0 {
			cur := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for _, n := range next[cur] {
				if seen&(1<<n) == 0 {
					seen |= 1 << n
					stack = append(stack, n)
				}
			}
		}
		r[s] = seen
	}
	return r
}()

// Reachable reports whether one socket in state from can later be in state
// to, following RFC 9293's diagram (from == to is reachable). CLOSED is
// terminal: a new connection on the same addresses is a new socket.
// Linux's NEW_SYN_RECV counts as SYN-RECEIVED.
func Reachable(from, to State) bool {
	from, to = from.Canonical(), to.Canonical()
	if int(from) >= len(reach) || int(to) >= len(reach) {
		return false
	}
	return reach[from]&(1<<to) != 0
}

// Opens reports whether s is a state a new socket can first be seen in by
// the packets: a listener, or a connection that sent or answered a SYN.
func Opens(s State) bool {
	switch s.Canonical() {
	case Listen, SynSent, SynReceived:
		return true
	}
	return false
}
