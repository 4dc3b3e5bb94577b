package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records failures instead of stopping.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(f string, a ...any) {
	r.failed = true
	r.msg = f
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.failed = true
	r.msg = f
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.golden")
	if err := os.WriteFile(path, []byte("same\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		path string
		got  string
		fail bool
	}{
		{"equal", path, "same\n", false},
		{"differs", path, "other\n", true},
		{"missing", filepath.Join(dir, "none.golden"), "x", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{TB: t}
			CheckFile(r, c.path, []byte(c.got))
			if r.failed != c.fail {
				t.Errorf("failed = %v (%s), want %v", r.failed, r.msg, c.fail)
			}
		})
	}
}

func TestUpdateWrites(t *testing.T) {
	*update = true
	defer func() { *update = false }()
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "y.golden")
	CheckFile(t, path, []byte("new\n"))
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "new\n" {
		t.Fatalf("after update: %q, %v", b, err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "sub", ".golden-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestUpdateWriteErrorFails: a path below a regular file cannot be created,
// for root too, so the write must fail the test.
func TestUpdateWriteErrorFails(t *testing.T) {
	*update = true
	defer func() { *update = false }()
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	r := &recorder{TB: t}
	CheckFile(r, filepath.Join(file, "z.golden"), []byte("x"))
	if !r.failed || !strings.Contains(r.msg, "golden") {
		t.Errorf("a write that cannot succeed did not fail the test (%v %q)", r.failed, r.msg)
	}
}
