package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestRunOnWire: a scenario run on a lab network says where it captured
// and which seed its wire used, and every packet line says what the wire
// did and when the packet arrived: after it was sent, by at least the
// wire's delay.
func TestRunOnWire(t *testing.T) {
	r := netlab(t, "run", "echo", "--delay", "5ms", "--seed", "9", "--json")
	needSandbox(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", r.code, r.stderr, r.stdout)
	}
	lines := jsonLines(t, r.stdout)
	run := lines[0]
	if run["seed"] != 9.0 || !strings.Contains(run["wire_config"].(string), "delay 5ms") {
		t.Errorf("run line %v: want seed 9 and the wire's delay", run)
	}
	if pts, _ := run["points"].([]any); len(pts) != 2 || pts[0] != "client:eth0" || pts[1] != "server:eth0" {
		t.Errorf("run line points %v", run["points"])
	}
	packets := 0
	for _, l := range lines {
		if l["type"] != "packet" {
			continue
		}
		packets++
		w, _ := l["wire"].(map[string]any)
		if w == nil || w["action"] != "delay" || w["copies"] != 1.0 {
			t.Errorf("packet %v: wire %v, want a delay and one copy", l["n"], w)
			continue
		}
		if want := map[any]string{"client": "client:eth0", "server": "server:eth0"}[l["from"]]; w["from"] != want {
			t.Errorf("packet %v from lane %v left at %v, want %s", l["n"], l["from"], w["from"], want)
		}
		at, ok := l["arrived_t"].(float64)
		if !ok || at-l["t"].(float64) < 0.005 {
			t.Errorf("packet %v sent at %v arrived at %v: want 5 ms or more later", l["n"], l["t"], l["arrived_t"])
		}
	}
	if packets < 8 {
		t.Errorf("%d packets on the wire, want the echo's 8 or more", packets)
	}
}

// TestWireLoss: packets the wire loses are marked dropped on the wire and
// have no arrival; the run still completes (TCP retransmits), and the
// checks that count segments of a clean path are not applicable, not
// failed: the run exits 0.
func TestWireLoss(t *testing.T) {
	r := netlab(t, "run", "echo", "--loss", "20%", "--seed", "3", "--json")
	needSandbox(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d, want 0 (clean-path checks not applicable)\n%s\n%s", r.code, r.stderr, r.stdout)
	}
	lost, na := 0, 0
	for _, l := range jsonLines(t, r.stdout) {
		switch l["type"] {
		case "check":
			if l["not_applicable"] == true {
				na++
				if l["ok"] != false || !strings.Contains(l["detail"].(string), "not applicable") {
					t.Errorf("not applicable check %v: want ok false and a detail saying why", l)
				}
			}
		case "summary":
			if l["checks_not_applicable"] != 2.0 || l["checks_failed"] != 0.0 {
				t.Errorf("summary %v: want 2 checks not applicable, none failed", l)
			}
		}
		if l["type"] != "packet" {
			continue
		}
		w, _ := l["wire"].(map[string]any)
		_, arrived := l["arrived_t"]
		switch {
		case l["dropped"] == "wire":
			lost++
			if arrived || w["action"] != "drop" || w["rule"] != "loss" || w["copies"] != 0.0 {
				t.Errorf("lost packet %v: arrived %v, wire %v", l["n"], arrived, w)
			}
		case !arrived:
			t.Errorf("packet %v neither lost nor arrived: %v", l["n"], l)
		}
	}
	if lost == 0 {
		t.Errorf("no packet lost with 20%% loss and seed 3 (the seed repeats the wire's decisions)")
	}
	if na != 2 {
		t.Errorf("%d checks not applicable, want echo's 2 clean-path checks", na)
	}
}

// TestWireInterrupt: Ctrl-C in a wire run ends it at once and leaves no
// process (the namespaces are anonymous: they go with the processes).
func TestWireInterrupt(t *testing.T) {
	cmd := exec.Command(netlabBin, "run", "time-wait", "--delay", "20ms")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "Act 1") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "Act 1") {
		cmd.Process.Kill()
		cmd.Wait()
		if strings.Contains(errb.String(), "cannot capture") {
			t.Skipf("no sandbox: %s", errb.String())
		}
		t.Fatalf("run did not start:\n%s\n%s", out.String(), errb.String())
	}
	workers := descendants(cmd.Process.Pid)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d\n%s", err, exitInterrupted, errb.String())
	}
	for _, pid := range workers {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			t.Errorf("worker process %d is still there", pid)
		}
	}
}
