package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// envNested marks the inner process of Nest.
const envNested = "NETLAB_NESTED"

// childEhashPath sizes the TCP hash table of network namespaces created from
// this one. By default a new namespace shares the host's table (262,144
// buckets here), and every sock_diag dump walks all of it: ~1 ms per dump.
// A private 128-bucket table makes a dump ~0.2 ms.
const childEhashPath = "/proc/sys/net/ipv4/tcp_child_ehash_entries"

// Nest gives the run a network namespace with a small private TCP hash
// table, so that polling the kernel's socket table every few milliseconds
// is cheap. The sysctl that does it applies only to namespaces created
// later, so the sandboxed process sets it in its own (throwaway) namespace and
// re-executes itself once more into a new network namespace, relaying
// signals and its exit code. It returns done=false in the inner process, in
// Host mode, and when nesting is not possible (the run then stays in the
// first namespace, with slower dumps); done=true with the exit code in the
// outer process once the inner one has exited.
func Nest(mode Mode) (code int, done bool) {
	if mode == Host || os.Getenv(envNested) != "" || OwnsNetns() != nil {
		return 0, false
	}
	if err := os.WriteFile(childEhashPath, []byte("128"), 0); err != nil {
		return 0, false
	}
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{os.NewFile(3, "events")}
	cmd.Env = append(os.Environ(), envNested+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET, Pdeathsig: syscall.SIGKILL}
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, false
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	for {
		select {
		case s := <-sigs:
			cmd.Process.Signal(s)
		case err := <-waited:
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
					return 128 + int(ws.Signal()), true
				}
				return ee.ExitCode(), true
			}
			if err != nil {
				return 1, true
			}
			return 0, true
		}
	}
}

// SmallChildTables gives the network namespaces created from now on in
// this one — a lab network's hosts — the small private TCP hash table Nest
// gives the run's own. Without it each host's namespace shares the
// machine's table and every sock_diag dump of a host walks all of it: two
// hosts polled every 2 ms kept both cores of a 2-core machine busy in
// tcp_diag_dump (69% of all CPU in a profile of the latency lesson), and a
// wire relay starved of CPU delays frames by milliseconds. It refuses a
// namespace the run does not own.
func SmallChildTables() error {
	if err := OwnsNetns(); err != nil {
		return err
	}
	return os.WriteFile(childEhashPath, []byte("128"), 0)
}
