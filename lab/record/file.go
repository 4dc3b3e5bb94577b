package record

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// An output file (--pcap FILE, the dashboard's save) is written so that
// running netlab under sudo never widens what the invoking user could do:
//
//   - every file system call is made with the invoking user's file system
//     identity (setfsuid/setfsgid and their groups, on one locked thread),
//     so the kernel lets root write only where that user could;
//   - a symbolic link is never followed;
//   - a regular file is written to a new temporary file in the target
//     directory (O_EXCL) and renamed over the target once complete: an
//     existing file is replaced, never re-owned, never half written; under
//     sudo an existing file that belongs to someone else is refused;
//   - a FIFO or a character device (/dev/null, a terminal) is opened
//     write-only, never read-write (which would make netlab its own reader).

// Output is an output file being written.
type Output struct {
	f    *os.File
	path string
	tmp  string // the temporary file renamed onto path by Commit ("" when writing in place)
}

// target is what path names now.
type target int

const (
	targetNew     target = iota // nothing there yet
	targetRegular               // an existing regular file: replaced
	targetStream                // a FIFO or a character device: written in place
)

// inspect decides how path may be written, or why not.
func inspect(path string) (target, error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		dir, derr := os.Stat(filepath.Dir(path))
		if derr != nil {
			return 0, derr
		}
		if !dir.IsDir() {
			return 0, fmt.Errorf("%s is not a directory", filepath.Dir(path))
		}
		return targetNew, nil
	}
	if err != nil {
		return 0, err
	}
	switch m := st.Mode(); {
	case m&fs.ModeSymlink != 0:
		return 0, errors.New("it is a symbolic link: netlab does not follow links for its output (give the file it points to, or - for standard output)")
	case m&fs.ModeNamedPipe != 0, m&fs.ModeCharDevice != 0:
		return targetStream, nil
	case m.IsRegular():
		if u, ok := sudoUser(); ok {
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != u.uid {
				return 0, fmt.Errorf("it exists and belongs to uid %d, not to you (uid %d): netlab will not replace it", sys.Uid, u.uid)
			}
		}
		return targetRegular, nil
	default:
		return 0, fmt.Errorf("it is a %v, not a file", m.Type())
	}
}

// CheckWritable fails early, before a run starts, when path cannot be
// written (a missing directory, no permission, a symbolic link, someone
// else's file under sudo), so no run is wasted. It leaves nothing behind
// and does not open a FIFO (that would wait for its reader).
func CheckWritable(path string) error {
	err := asInvokingUser(func() error {
		t, err := inspect(path)
		if err != nil || t == targetStream {
			return err
		}
		f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
		if err != nil {
			return err
		}
		f.Close()
		return os.Remove(f.Name())
	})
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// Create opens path for an output file (see the rules above). Write to it,
// then Commit; Abort on failure.
func Create(path string) (*Output, error) {
	o := &Output{path: path}
	err := asInvokingUser(func() error {
		t, err := inspect(path)
		if err != nil {
			return err
		}
		if t == targetStream {
			o.f, err = os.OpenFile(path, os.O_WRONLY|unix.O_NOFOLLOW, 0)
			return err
		}
		o.f, err = os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
		if err != nil {
			return err
		}
		o.tmp = o.f.Name()
		return o.f.Chmod(0o644)
	})
	if err != nil {
		if o.f != nil {
			o.Abort()
		}
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return o, nil
}

// Write writes to the file.
func (o *Output) Write(p []byte) (int, error) { return o.f.Write(p) }

// Commit closes the file and, for a regular file, renames it onto its path.
func (o *Output) Commit() error {
	if err := o.f.Close(); err != nil {
		o.removeTemp()
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	if o.tmp == "" {
		return nil
	}
	if err := asInvokingUser(func() error { return os.Rename(o.tmp, o.path) }); err != nil {
		o.removeTemp()
		return fmt.Errorf("write %s: %w", o.path, err)
	}
	return nil
}

// Abort closes the file and removes what was written of a regular file:
// the target is left as it was.
func (o *Output) Abort() {
	o.f.Close()
	o.removeTemp()
}

func (o *Output) removeTemp() {
	if o.tmp != "" {
		asInvokingUser(func() error { return os.Remove(o.tmp) })
	}
}

// invoker is the user who ran sudo.
type invoker struct{ uid, gid int }

// sudoUser returns the user who ran sudo, when this process is root
// because of it.
func sudoUser() (invoker, bool) {
	if os.Geteuid() != 0 {
		return invoker{}, false
	}
	uid, err1 := strconv.Atoi(os.Getenv("SUDO_UID"))
	gid, err2 := strconv.Atoi(os.Getenv("SUDO_GID"))
	if err1 != nil || err2 != nil || uid == 0 {
		return invoker{}, false
	}
	return invoker{uid, gid}, true
}

// asInvokingUser runs fn with the file system identity of the user who ran
// sudo (fsuid, fsgid and that one group), on a locked thread so that no
// other goroutine runs with it; without sudo it just runs fn. Files fn
// creates belong to that user, and the kernel refuses what that user could
// not do.
func asInvokingUser(fn func() error) error {
	u, ok := sudoUser()
	if !ok {
		return fn()
	}
	runtime.LockOSThread()
	groups := make([]uint32, 64)
	n, _, errno := unix.RawSyscall(unix.SYS_GETGROUPS, uintptr(len(groups)), uintptr(unsafe.Pointer(&groups[0])), 0)
	if errno != 0 {
		runtime.UnlockOSThread()
		return fmt.Errorf("getgroups: %w", errno)
	}
	groups = groups[:n]
	restored := false
	defer func() {
		if restored {
			runtime.UnlockOSThread()
		}
		// Otherwise the thread keeps the user's identity and dies with
		// this goroutine (a locked thread is not reused).
	}()
	one := []uint32{uint32(u.gid)}
	// Raw system calls change only this thread's credentials (Go's
	// syscall.Setgroups would change every thread's).
	if _, _, errno := unix.RawSyscall(unix.SYS_SETGROUPS, 1, uintptr(unsafe.Pointer(&one[0])), 0); errno != 0 {
		restored = true
		return fmt.Errorf("setgroups: %w", errno)
	}
	unix.RawSyscall(unix.SYS_SETFSGID, uintptr(u.gid), 0, 0)
	unix.RawSyscall(unix.SYS_SETFSUID, uintptr(u.uid), 0, 0)
	err := fn()
	unix.RawSyscall(unix.SYS_SETFSUID, 0, 0, 0)
	unix.RawSyscall(unix.SYS_SETFSGID, 0, 0, 0)
	var gp uintptr
	if len(groups) > 0 {
		gp = uintptr(unsafe.Pointer(&groups[0]))
	}
	_, _, errno = unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), gp, 0)
	// setfsuid returns the previous value: a second call reads the current one.
	cur, _, _ := unix.RawSyscall(unix.SYS_SETFSUID, ^uintptr(0), 0, 0)
	restored = errno == 0 && cur == 0
	return err
}
