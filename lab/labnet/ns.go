package labnet

import (
	"errors"
	"fmt"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// NS is an anonymous network namespace (and, where the sandbox allows,
// a UTS namespace for the host name) held open by file descriptors: it exists while they are open, and
// dies with them — after Close, or when the process dies, even by kill -9.
type NS struct {
	mu       sync.Mutex
	net, uts int // -1 once closed
	inode    uint64
}

// newNS creates a network and a UTS namespace, names the host, and returns
// to the caller's namespaces. unshare(CLONE_NEWNET|CLONE_NEWUTS) is allowed
// in a multithreaded process (only CLONE_NEWUSER is not) and changes the
// calling thread alone, so it runs on a locked thread of its own.
func newNS(hostname string) (*NS, error) {
	ns := &NS{net: -1, uts: -1}
	err := onLockedThread(func() (restore func() error, err error) {
		uts := canReturnUTS()
		restore, err = saveNS(uts)
		if err != nil {
			return nil, err
		}
		flags := unix.CLONE_NEWNET
		if uts {
			flags |= unix.CLONE_NEWUTS
		}
		if err := unix.Unshare(flags); err != nil {
			// Nothing changed: the thread is still where it was.
			restore()
			err = fmt.Errorf("unshare network namespace: %w", err)
			if errors.Is(err, unix.EPERM) {
				err = fmt.Errorf("%w (a lab network needs CAP_SYS_ADMIN and CAP_NET_ADMIN over the current "+
					"network namespace: run it inside netlab's sandbox, as root or in a user namespace)", err)
			}
			return nil, err
		}
		if ns.net, err = openNS("net"); err != nil {
			return restore, err
		}
		if uts {
			if err := unix.Sethostname([]byte(hostname)); err != nil {
				return restore, fmt.Errorf("set host name %q: %w", hostname, err)
			}
			if ns.uts, err = openNS("uts"); err != nil {
				return restore, err
			}
		}
		var st unix.Stat_t
		if err := unix.Fstat(ns.net, &st); err != nil {
			return restore, fmt.Errorf("stat network namespace: %w", err)
		}
		ns.inode = st.Ino
		return restore, nil
	})
	if err != nil {
		ns.Close()
		return nil, err
	}
	return ns, nil
}

// saveNS opens the calling thread's network namespace (and UTS namespace
// if uts) and returns the function that switches the thread back to them.
func saveNS(uts bool) (restore func() error, err error) {
	origNet, err := openNS("net")
	if err != nil {
		return nil, err
	}
	origUTS := -1
	if uts {
		if origUTS, err = openNS("uts"); err != nil {
			unix.Close(origNet)
			return nil, err
		}
	}
	return func() error {
		defer unix.Close(origNet)
		err := setns(origNet, unix.CLONE_NEWNET)
		if origUTS >= 0 {
			err = errors.Join(err, setns(origUTS, unix.CLONE_NEWUTS))
			unix.Close(origUTS)
		}
		return err
	}, nil
}

// canReturnUTS reports whether the calling thread may enter its own UTS
// namespace again. A rootless sandbox (a user namespace with a network
// namespace, the UTS namespace still the host's) may not: setns needs
// CAP_SYS_ADMIN over the namespace's owner, the host's user namespace. Hosts
// then share the sandbox's host name.
func canReturnUTS() bool {
	fd, err := openNS("uts")
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	return unix.Setns(fd, unix.CLONE_NEWUTS) == nil
}

func openNS(kind string) (int, error) {
	fd, err := unix.Open("/proc/thread-self/ns/"+kind, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open %s namespace: %w", kind, err)
	}
	return fd, nil
}

func setns(fd, kind int) error {
	if err := unix.Setns(fd, kind); err != nil {
		return fmt.Errorf("setns: %w", err)
	}
	return nil
}

// onLockedThread runs enter on a goroutine locked to its OS thread, then the
// restore function it returned. The thread goes back to the Go scheduler
// only if restore succeeded; otherwise it stays locked and dies with the
// goroutine, so no goroutine ever runs on a thread left in a foreign
// namespace. A panic in enter is re-raised in the caller.
func onLockedThread(enter func() (restore func() error, err error)) error {
	type result struct {
		err   error
		panic any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		var res result
		var restore func() error
		func() {
			defer func() { res.panic = recover() }()
			restore, res.err = enter()
		}()
		if restore != nil {
			if err := restore(); err != nil {
				// Leave the thread locked: it exits with this goroutine.
				res.err = errors.Join(res.err, fmt.Errorf("return to the original namespace: %w", err))
				done <- res
				return
			}
		}
		runtime.UnlockOSThread()
		done <- res
	}()
	res := <-done
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}

// Do runs fn on an OS thread switched into the namespace and switches back
// after it. Sockets fn creates belong to the namespace for good (an
// AF_PACKET capture, a sock_diag netlink socket, a listener, a connection);
// they can be used from any goroutine afterwards. Goroutines fn starts run
// elsewhere, in the process's own namespace.
func (ns *NS) Do(fn func() error) error {
	ns.mu.Lock()
	netFD, utsFD := ns.net, ns.uts
	ns.mu.Unlock()
	if netFD < 0 {
		return errors.New("labnet: namespace closed")
	}
	return onLockedThread(func() (func() error, error) {
		restore, err := saveNS(utsFD >= 0)
		if err != nil {
			return nil, err
		}
		if err := setns(netFD, unix.CLONE_NEWNET); err != nil {
			return restore, err
		}
		if utsFD >= 0 {
			if err := setns(utsFD, unix.CLONE_NEWUTS); err != nil {
				return restore, err
			}
		}
		return restore, fn()
	})
}

// Fd is the namespace's file descriptor, for unix.Setns or
// netlink.Config.NetNS. It is valid until Close.
func (ns *NS) Fd() int {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	return ns.net
}

// Inode identifies the namespace (as in /proc/PID/ns/net -> net:[INODE]).
func (ns *NS) Inode() uint64 { return ns.inode }

// Close releases the namespace: it dies once nothing else holds it (a
// socket created inside keeps it alive until the socket is closed).
func (ns *NS) Close() error {
	ns.mu.Lock()
	defer ns.mu.Unlock()
	var errs []error
	for _, fd := range []*int{&ns.net, &ns.uts} {
		if *fd >= 0 {
			errs = append(errs, unix.Close(*fd))
			*fd = -1
		}
	}
	return errors.Join(errs...)
}
