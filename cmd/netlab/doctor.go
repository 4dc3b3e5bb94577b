package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/netlab/netlab/lab/doctor"
	"github.com/netlab/netlab/lab/runner"
	"github.com/netlab/netlab/lab/sandbox"
)

func (a *app) doctorCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "check what this machine allows (namespaces, capture, sock_diag, nftables, TUN) and how to fix it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			results := doctor.Host()
			probe, mode, err := runner.Probe("")
			ns := doctor.Result{Name: "sandbox", OK: err == nil}
			var se *sandbox.Error
			switch {
			case err == nil:
				ns.Detail = fmt.Sprintf("runs go in a fresh %s sandbox", mode)
				if mode == sandbox.Host {
					ns.Detail = "no namespaces allowed: runs capture on the host's lo (setcap)"
				}
			case errors.As(err, &se):
				ns.Detail = se.Err.Error()
				for _, f := range se.Fix {
					ns.Fix += "\n      " + f
				}
			default:
				ns.Detail = err.Error()
			}
			results = append(results, ns)
			results = append(results, probe...)
			failed := false
			for _, r := range results {
				mark := "ok     "
				if !r.OK {
					mark = "missing"
					if !r.Optional {
						failed = true
					}
				}
				fmt.Fprintf(a.stdout, "%s  %-34s %s\n", mark, r.Name, r.Detail)
				if !r.OK && r.Fix != "" {
					fmt.Fprintf(a.stdout, "         fix: %s\n", r.Fix)
				}
			}
			if failed {
				fmt.Fprintln(a.stdout, "\nnetlab cannot run scenarios here until the fixes above are applied.")
				return &exitError{code: exitNoCapture}
			}
			fmt.Fprintln(a.stdout, "\nnetlab can run every scenario here.")
			return nil
		},
	}
}
