package sandbox

import (
	"errors"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

func TestErrorNamesTheFix(t *testing.T) {
	e := &Error{Err: errors.New("create a rootless namespace: operation not permitted"), Fix: []string{"sudo netlab ...", "sudo setcap cap_net_raw,cap_net_admin+ep netlab"}}
	msg := e.Error()
	for _, want := range []string{"cannot capture", "operation not permitted", "fix", "sudo netlab", "setcap"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if !errors.Is(e, e.Err) {
		t.Error("Error must unwrap to its cause")
	}
}

func TestPrepare(t *testing.T) {
	tests := []struct {
		mode  Mode
		flags uintptr
		maps  bool
	}{
		{Netns, syscall.CLONE_NEWNET, false},
		{Rootless, syscall.CLONE_NEWUSER | syscall.CLONE_NEWNET, true},
		{Host, 0, false},
	}
	for _, tc := range tests {
		cmd := exec.Command("/bin/true")
		Prepare(cmd, tc.mode)
		a := cmd.SysProcAttr
		if a.Cloneflags != tc.flags || (len(a.UidMappings) > 0) != tc.maps || a.Pdeathsig != syscall.SIGKILL || !a.Setpgid {
			t.Errorf("%s: %+v", tc.mode, a)
		}
		if cmd.Env[len(cmd.Env)-1] != EnvMode+"="+string(tc.mode) {
			t.Errorf("%s: env %q", tc.mode, cmd.Env[len(cmd.Env)-1])
		}
	}
}
