package main

import (
	"github.com/spf13/cobra"

	"github.com/netlab/netlab/lab/doctor"
	"github.com/netlab/netlab/lab/runner"
)

func (a *app) doctorCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "check what this machine allows (namespaces, capture, sock_diag, nftables) and how to fix it",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			host := doctor.Host("")
			probe, mode, err := runner.Probe("")
			if !doctor.Report(a.stdout, a.language(), host, doctor.Sandbox(mode, err), mode, probe) {
				return &exitError{code: exitNoCapture}
			}
			return nil
		},
	}
}
