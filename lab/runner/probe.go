package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/netlab/netlab/lab/doctor"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/sandbox"
)

// Probe starts a sandboxed child the way a run would and returns what
// doctor.Probe found there, with the sandbox mode used. The error is a
// *sandbox.Error when no sandbox can be made.
func Probe(exe string) ([]doctor.Result, sandbox.Mode, error) {
	if exe == "" {
		exe = "/proc/self/exe"
	}
	req, _ := json.Marshal(request{Probe: true})
	pr, pw, err := channel()
	if err != nil {
		return nil, "", err
	}
	defer pr.Close()
	stderr := &capped{max: 16 << 10}
	cmd, mode, err := sandbox.Start(func() *exec.Cmd {
		c := exec.Command(exe)
		c.Args = []string{"netlab-probe"}
		c.Env = append(os.Environ(), envRequest+"="+string(req))
		c.ExtraFiles = []*os.File{pw}
		c.Stderr = stderr
		return c
	})
	pw.Close()
	if err != nil {
		return nil, mode, err
	}
	var results []doctor.Result
	dec := newDecoder(pr)
	for {
		m, err := dec.next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				results = append(results, childFailed(err.Error()))
			}
			break
		}
		results = append(results, m.Probe...)
		if m.End != nil && m.End.Fatal != "" {
			results = append(results, childFailed(m.End.Fatal))
		}
	}
	if err := cmd.Wait(); err != nil && len(results) == 0 {
		return nil, mode, fmt.Errorf("probe child: %v: %s", err, stderr.Bytes())
	}
	return results, mode, nil
}

// childFailed is the result of a probe child that could not report.
func childFailed(why string) doctor.Result {
	return doctor.Result{Name: i18n.T("sandbox child", "沙箱子进程"), Detail: i18n.T(why, why)}
}
