package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSVGGraphs: --svg DIR writes slow-start's two graphs, well-formed
// SVG, the time-sequence graph counting every one of its 150 data
// segments, the cwnd graph naming the algorithm the kernel reported.
func TestSVGGraphs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "graphs") // made by netlab
	r := netlab(t, "run", "slow-start", "--svg", dir)
	needSandbox(t, r)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.why())
	}
	for name, want := range map[string]string{
		"slow-start-seq-1-client.svg":  "data segment (150)",
		"slow-start-cwnd-client-1.svg": "(reno), from its kernel",
	} {
		path := filepath.Join(dir, name)
		if !strings.Contains(r.stdout, "wrote "+path) {
			t.Errorf("stdout does not say it wrote %s", path)
		}
		doc, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := wellFormed(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("%s does not say %q", name, want)
		}
	}
}

// TestSVGUnwritable: a --svg directory that cannot be made is a usage
// error before the run, not a lost run.
func TestSVGUnwritable(t *testing.T) {
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := netlab(t, "run", "echo", "--svg", filepath.Join(file, "graphs"))
	if r.code != exitUsage || !strings.Contains(r.stderr, "--svg") {
		t.Fatalf("exit %d, stderr %q: want %d naming --svg", r.code, r.stderr, exitUsage)
	}
}

func wellFormed(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
	}
}
