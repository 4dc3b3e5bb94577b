// Command netlab is an interactive network protocol lab: it runs small TCP,
// UDP and HTTP scenarios on real sockets in a private network namespace and
// shows the captured packets, the kernel's socket states and the program's
// calls on one timeline, with each lesson checked against what the kernel
// did in that run.
//
//	netlab                      dashboard: pick a scenario, watch it live
//	netlab list                 scenarios with one-line summaries
//	netlab run handshake        headless: ladder diagram, states, checks
//	netlab run close --json     JSON lines, one event per line
//	netlab run time-wait --pcap tw.pcapng
//	netlab doctor               what this machine allows, and how to fix it
//
// Exit codes: 0 all checks passed, 1 a check failed, 2 usage, 3 cannot
// capture (the message names the fix), 4 an output could not be written,
// 130 interrupted.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/netlab/netlab/lab/runner"
	"github.com/netlab/netlab/scenarios"
)

func main() {
	if runner.IsWorker() {
		os.Exit(runner.WorkerMain(scenarios.Catalog()))
	}
	// The handler stays installed until the process exits: were it
	// removed when run returns, a SIGINT arriving while the summary is
	// written would kill netlab by the default action instead of being
	// answered (exit 130, or 0 when the run had already finished).
	ctx, _ := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	os.Exit(run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
