package runner

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The worker's event channel is one end of a Unix socket pair the front end
// creates and hands over at exec as file descriptor 3. The worker runs only
// when that descriptor is such a socket and the process that made the pair
// is its parent (or, in a nested namespace, its parent's parent): setting
// the worker's environment variables is not enough to start one.

// channel returns the front end's end and the worker's end of a new event
// channel.
func channel() (front, worker *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("event channel: %w", err)
	}
	// The worker only writes and the front end only reads.
	unix.Shutdown(fds[0], unix.SHUT_WR)
	unix.Shutdown(fds[1], unix.SHUT_RD)
	return os.NewFile(uintptr(fds[0]), "events"), os.NewFile(uintptr(fds[1]), "events"), nil
}

// fromFrontEnd checks that f is the worker's end of a channel made by an
// ancestor: the parent (the front end) or, for the inner process of a
// nested namespace, the parent's parent.
func fromFrontEnd(f *os.File) error {
	cred, err := unix.GetsockoptUcred(int(f.Fd()), unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return fmt.Errorf("file descriptor 3 is not a netlab front end's event channel: %w", err)
	}
	peer := int(cred.Pid)
	parent := os.Getppid()
	if peer == parent && peer > 1 {
		return nil
	}
	if gp, err := parentOf(parent); err == nil && gp == peer && peer > 1 {
		return nil
	}
	return fmt.Errorf("the event channel was made by process %d, not by the parent (%d) that started this worker", peer, parent)
}

// parentOf reads a process's parent from /proc/PID/stat.
func parentOf(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// pid (comm) state ppid ...; comm may hold spaces and parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("bad stat")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return 0, errors.New("bad stat")
	}
	return strconv.Atoi(f[1])
}
