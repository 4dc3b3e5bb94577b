package record_test

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/record"
)

func owner(t *testing.T, path string) (uid int, content string) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	return int(st.Sys().(*syscall.Stat_t).Uid), string(b)
}

// TestPcapUnderSudo: as root with SUDO_UID set, --pcap (and the dashboard's
// save) writes only where the invoking user could, never follows a link,
// never re-owns or overwrites a file that belongs to someone else, and gives
// the files it makes to that user. Before, the file was created by path and
// chowned by path: a link planted by the user made netlab overwrite a
// root-owned file and give it away.
func TestPcapUnderSudo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (the sudo case)")
	}
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no unprivileged user: %v", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	mkdir := func(ownerUID int) string {
		d, err := os.MkdirTemp("", "netlab-sudo-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
		os.Chmod(d, 0o755)
		os.Chown(d, ownerUID, gid)
		return d
	}
	userDir, rootDir := mkdir(uid), mkdir(0)
	victim := filepath.Join(rootDir, "shadow")
	if err := os.WriteFile(victim, []byte("root's"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SUDO_UID", u.Uid)
	t.Setenv("SUDO_GID", u.Gid)
	tl := fixture(t)
	save := func(path string) error {
		_, err := record.WritePcapng(path, tl, i18n.En)
		return err
	}
	victimSafe := func(what string) {
		t.Helper()
		if o, c := owner(t, victim); o != 0 || c != "root's" {
			t.Errorf("%s: the root-owned file now belongs to uid %d and holds %.16q", what, o, c)
		}
	}

	link := filepath.Join(userDir, "link.pcapng")
	os.Symlink(victim, link)
	if err := record.CheckWritable(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("CheckWritable on a link: %v", err)
	}
	if err := save(link); err == nil {
		t.Error("wrote through a symbolic link")
	}
	victimSafe("link")

	late := filepath.Join(userDir, "late.pcapng")
	if err := record.CheckWritable(late); err != nil {
		t.Fatal(err)
	}
	os.Symlink(victim, late) // planted between the check and the write
	if err := save(late); err == nil {
		t.Error("wrote through a link planted after the check")
	}
	victimSafe("late link")

	rootFile := filepath.Join(userDir, "root.pcapng")
	os.WriteFile(rootFile, []byte("root's"), 0o644)
	if err := save(rootFile); err == nil || !strings.Contains(err.Error(), "belongs to uid 0") {
		t.Errorf("replaced another user's file: %v", err)
	}
	if o, c := owner(t, rootFile); o != 0 || c != "root's" {
		t.Errorf("root's file in the user's directory: uid %d, %.16q", o, c)
	}

	if err := save(filepath.Join(rootDir, "new.pcapng")); err == nil {
		t.Error("wrote into a directory the invoking user cannot write")
	}
	if err := save(victim); err == nil {
		t.Error("overwrote a root-owned file in a root-owned directory")
	}
	victimSafe("direct")

	fresh := filepath.Join(userDir, "new.pcapng")
	if err := save(fresh); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(userDir, "mine.pcapng")
	os.WriteFile(mine, []byte("old"), 0o644)
	os.Chown(mine, uid, gid)
	if err := save(mine); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fresh, mine} {
		if o, c := owner(t, p); o != uid || !strings.HasPrefix(c, "\n\r\r\n") {
			t.Errorf("%s: uid %d (want %d), starts %q", p, o, uid, c[:min(len(c), 4)])
		}
	}
	if left, _ := filepath.Glob(filepath.Join(userDir, ".*.tmp")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
