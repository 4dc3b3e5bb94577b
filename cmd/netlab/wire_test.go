package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// TestTsharkAgreesOnWire: on a lab network the pcapng holds one interface
// per capture point, each packet leaving its sender's and every copy
// arriving at its receiver's. Split by capture point, as a tcpdump on each
// host would have written it, tshark finds there exactly the frames the
// JSON says crossed that point, and marks the same segments
// retransmissions (tshark: retransmission, fast, spurious or out-of-order)
// and duplicate ACKs as netlab does, packet by packet.
func TestTsharkAgreesOnWire(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (.ci/run installs it): cannot compare with a real peer")
	}
	for _, args := range [][]string{
		{"retransmit"},
		{"echo", "--loss", "20%", "--delay", "5ms", "--seed", "3"},
		{"coalescing", "--loss", "5%", "--reorder", "5%", "--seed", "11"},
		// Seed 22 usually has the wire deliver an old ACK late (tshark:
		// "keep-alive", its answer a "keep-alive ACK").
		{"coalescing", "--loss", "5%", "--reorder", "5%", "--seed", "22"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			pcap := filepath.Join(dir, "run.pcapng")
			r := netlab(t, append([]string{"run", "--json", "--pcap", pcap}, args...)...)
			needSandbox(t, r)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			// What the JSON says each point saw: the packets sent there (with
			// netlab's marks), and the copies that arrived there.
			type sent struct{ retrans, dupack bool }
			byPoint := map[string][]sent{}
			frames := map[string]int{}
			for _, l := range jsonLines(t, r.stdout) {
				if l["type"] != "packet" || l["proto"] != "tcp" {
					continue
				}
				w, _ := l["wire"].(map[string]any)
				if w == nil {
					t.Fatalf("packet %v has no wire", l["n"])
				}
				var s sent
				for _, x := range asStrings(l["expert"]) {
					s.retrans = s.retrans || x == "retransmission"
					s.dupack = s.dupack || x == "dup-ack" || x == "keep-alive-ack"
				}
				from, to := w["from"].(string), w["to"].(string)
				byPoint[from] = append(byPoint[from], s)
				frames[from]++
				frames[to] += int(w["copies"].(float64))
			}
			if len(byPoint) != 2 {
				t.Fatalf("packets sent at %d capture points, want 2", len(byPoint))
			}
			for point, want := range byPoint {
				split := filepath.Join(dir, strings.ReplaceAll(point, ":", "-")+".pcapng")
				if out, err := exec.Command(tshark, "-r", pcap, "-Y", `frame.interface_name == "`+point+`"`, "-w", split).CombinedOutput(); err != nil {
					t.Fatalf("tshark split %s: %v\n%s", point, err, out)
				}
				host := strings.TrimSuffix(point, ":eth0")
				addr := map[string]string{"client": "192.0.2.10", "server": "192.0.2.20"}[host]
				out, err := exec.Command(tshark, "-r", split, "-T", "fields", "-E", "separator=,",
					"-e", "ip.src", "-e", "tcp.analysis.retransmission", "-e", "tcp.analysis.fast_retransmission",
					"-e", "tcp.analysis.spurious_retransmission", "-e", "tcp.analysis.out_of_order", "-e", "tcp.analysis.duplicate_ack", "-e", "tcp.analysis.keep_alive_ack").Output()
				if err != nil {
					t.Fatalf("tshark read %s: %v", point, err)
				}
				lines := strings.Split(strings.TrimSpace(string(out)), "\n")
				if len(lines) != frames[point] {
					t.Errorf("%s: tshark reads %d frames, the JSON says %d crossed it", point, len(lines), frames[point])
				}
				var got []sent
				for _, line := range lines {
					f := strings.Split(line, ",")
					if f[0] != addr {
						continue // a copy arriving from the peer
					}
					// tshark calls a resent segment "out-of-order" when it
					// follows a later one within the RTT: at the sender's
					// interface it is a retransmission.
					// A repeated ACK is a duplicate ACK or, to tshark, a
					// keep-alive ACK when what it answers looked like a
					// keep-alive at this point: an old segment (seq one
					// below the next) that the wire delivered late. netlab
					// saw it leave in order, so it calls the answer a
					// duplicate ACK. Both say the ACK repeats.
					got = append(got, sent{retrans: f[1]+f[2]+f[3]+f[4] != "", dupack: f[5]+f[6] != ""})
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s, packets sent by %s ({retransmission dup-ack}):\ntshark: %v\nnetlab: %v", point, host, got, want)
				}
			}
		})
	}
}

// asStrings is a JSON array of strings (nil for none).
func asStrings(v any) []string {
	var out []string
	as, _ := v.([]any)
	for _, a := range as {
		s, _ := a.(string)
		out = append(out, s)
	}
	return out
}

// TestTsharkAgreesOnARP: the arp lesson's ARP frames, split by capture
// point, read by tshark: at each host's interface the requests and replies
// it sent, in order, with the same opcode, sender MAC and IP, target IP
// and Ethernet destination (broadcast or not) that netlab's JSON gives.
func TestTsharkAgreesOnARP(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark is not installed (.ci/run installs it): cannot compare with a real peer")
	}
	dir := t.TempDir()
	pcap := filepath.Join(dir, "run.pcapng")
	r := netlab(t, "run", "arp", "--json", "--pcap", pcap)
	needSandbox(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	want := map[string][]string{} // capture point → "op,sender mac,sender ip,target ip,eth dst" of the frames sent there
	for _, l := range jsonLines(t, r.stdout) {
		if l["type"] != "packet" || l["proto"] != "arp" {
			continue
		}
		w, _ := l["wire"].(map[string]any)
		a, _ := l["arp"].(map[string]any)
		if w == nil || a == nil {
			t.Fatalf("ARP packet %v has no wire or no arp: %v", l["n"], l)
		}
		op := map[string]string{"request": "1", "reply": "2"}[a["op"].(string)]
		from := w["from"].(string)
		want[from] = append(want[from], strings.Join([]string{op, a["sender_mac"].(string), l["src"].(string), l["dst"].(string), a["eth_dst"].(string)}, ","))
	}
	if len(want["client:eth0"]) < 4 || len(want["server:eth0"]) < 1 {
		t.Fatalf("too few ARP frames to compare: %v", want)
	}
	for point, frames := range want {
		host := strings.TrimSuffix(point, ":eth0")
		addr := map[string]string{"client": "192.0.2.10", "server": "192.0.2.20"}[host]
		out, err := exec.Command(tshark, "-r", pcap, "-Y", `frame.interface_name == "`+point+`" && arp.src.proto_ipv4 == `+addr,
			"-T", "fields", "-E", "separator=,", "-e", "arp.opcode", "-e", "arp.src.hw_mac", "-e", "arp.src.proto_ipv4", "-e", "arp.dst.proto_ipv4", "-e", "eth.dst").Output()
		if err != nil {
			t.Fatalf("tshark read %s: %v", point, err)
		}
		got := strings.Split(strings.TrimSpace(string(out)), "\n")
		if strings.Join(got, "\n") != strings.Join(frames, "\n") {
			t.Errorf("%s, ARP frames sent by %s:\ntshark:\n%s\nnetlab:\n%s", point, host, strings.Join(got, "\n"), strings.Join(frames, "\n"))
		}
	}
}
