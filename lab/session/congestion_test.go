package session

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestSetCongestion(t *testing.T) {
	have, err := CongestionAlgorithms()
	if err != nil {
		t.Skipf("no congestion control list: %v", err)
	}
	if !slices.Contains(have, "reno") {
		t.Fatalf("reno is always built in; the kernel lists %v", have)
	}
	for _, tc := range []struct {
		algorithm string
		wantErr   string // "" for none
	}{
		{"reno", ""}, // always built in, always allowed
		{"no-such-algorithm", "this kernel has " + strings.Join(have, ", ")},
	} {
		t.Run(tc.algorithm, func(t *testing.T) {
			fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer unix.Close(fd)
			err = setCongestion(fd, tc.algorithm)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("error %v, want one saying %q", err, tc.wantErr)
			case tc.wantErr == "":
				got, err := unix.GetsockoptString(fd, unix.IPPROTO_TCP, unix.TCP_CONGESTION)
				if err != nil || strings.TrimRight(got, "\x00") != tc.algorithm {
					t.Fatalf("read back %q, %v; want %q", got, err, tc.algorithm)
				}
			}
		})
	}
}
