package doctor

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/sandbox"
)

func TestReport(t *testing.T) {
	okProbe := []Result{
		{Name: i18n.T("AF_PACKET capture", "AF_PACKET 抓包"), OK: true, Detail: i18n.T("ring", "环")},
		{Name: i18n.T("nftables", "nftables"), OK: true, Optional: true, For: []string{"keepalive"}},
	}
	noNft := []Result{okProbe[0], {Name: i18n.T("nftables", "nftables"), Optional: true, For: []string{"keepalive"},
		Detail: i18n.T("no nf_tables", "没有 nf_tables"), Fix: i18n.T("sudo modprobe nf_tables", "sudo modprobe nf_tables")}}
	noTun := append(okProbe[:2:2], Result{Name: i18n.T("TUN", "TUN"), Optional: true, Detail: i18n.T("permission denied", "permission denied")})
	refused := &sandbox.Error{Err: errors.New("create a rootless namespace: operation not permitted"), Fix: []string{"sudo netlab ..."}}
	tests := []struct {
		name    string
		lang    i18n.Lang
		mode    sandbox.Mode
		err     error
		probe   []Result
		ok      bool
		want    []string
		notWant []string
	}{
		{"rootless, all there", i18n.En, sandbox.Rootless, nil, okProbe, true,
			[]string{"rootless): you are not root", "checked inside a fresh rootless sandbox", "can run every scenario here."}, []string{"missing"}},
		{"rootless, no TUN: not missing", i18n.En, sandbox.Rootless, nil, noTun, true,
			[]string{"unused   TUN", "can run every scenario here."}, []string{"missing"}},
		{"no nftables: all but keepalive", i18n.En, sandbox.Netns, nil, noNft, true,
			[]string{"missing  nftables", "fix: sudo modprobe nf_tables", "every scenario here except keepalive"}, nil},
		{"no sandbox", i18n.En, sandbox.Rootless, refused, nil, false,
			[]string{"missing  sandbox", "operation not permitted", "fix: sudo netlab", "cannot run scenarios here"}, []string{"checked inside"}},
		{"zh", i18n.Zh, sandbox.Rootless, nil, noTun, true,
			[]string{"可用", "沙箱", "不需要", "在一个新的 rootless 沙箱里检查", "netlab 可以在这里运行每个场景。"}, []string{"missing", "ok "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			got := Report(&b, tc.lang, nil, Sandbox(tc.mode, tc.err), tc.mode, tc.probe)
			if got != tc.ok {
				t.Errorf("Report = %v, want %v", got, tc.ok)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(b.String(), w) {
					t.Errorf("has %q:\n%s", w, b.String())
				}
			}
		})
	}
}
