package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"
)

func (a *app) uiCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ui NAME",
		Short: "open the dashboard with scenario NAME selected and started",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := a.lookup(args[0]); err != nil {
				return err
			}
			return a.dashboard(cmd.Context(), args[0])
		},
	}
}

// dashboard opens the interactive dashboard (not built yet: see issue 3).
func (a *app) dashboard(ctx context.Context, name string) error {
	return &exitError{code: exitUsage, err: errors.New("the dashboard is not built yet; use 'netlab run NAME' (netlab list shows the names)")}
}
