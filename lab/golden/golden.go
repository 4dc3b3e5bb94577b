// Package golden compares test output with reviewed files under testdata/,
// the way go/printer's tests do: `go test -update` rewrites them instead.
//
// Every package's golden tests share the one -update flag this package
// registers, and a file that cannot be written fails the test rather than
// leaving a stale golden behind.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with what the tests produce")

// Updating reports whether this test run rewrites golden files (-update).
func Updating() bool { return *update }

// Path is the golden file's path: testdata/NAME.golden.
func Path(name string) string { return filepath.Join("testdata", name+".golden") }

// Check compares got with testdata/NAME.golden, or rewrites that file when
// the test runs with -update. A difference fails the test and shows both.
func Check(t testing.TB, name string, got []byte) {
	t.Helper()
	CheckFile(t, Path(name), got)
}

// CheckFile is Check for a golden file at any path.
func CheckFile(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := write(path, got); err != nil {
			t.Fatalf("golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (go test -update creates it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("golden: %s differs (go test -update rewrites it after review)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// write replaces path with b: a temporary file in the same directory,
// synced and renamed, so a failed write never leaves half a golden.
func write(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".golden-*")
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	if err := f.Sync(); werr == nil {
		werr = err
	}
	if err := f.Close(); werr == nil {
		werr = err
	}
	if werr == nil {
		werr = os.Chmod(f.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		os.Remove(f.Name())
	}
	return werr
}
