// Package ui is netlab's interactive dashboard: a tview view over one run's
// timeline. It is the only package that imports tview and tcell.
//
// The dashboard never talks to sockets or the capture. A run (lab/runner)
// fills a timeline; one pump goroutine wakes at most ~30 times a second,
// classifies what is new and hands it to the UI goroutine in a single
// QueueUpdateDraw. Everything a panel shows — the ladder, the packet table,
// the sockets with their TIME-WAIT countdown, the state machine, the bytes,
// the checks — is derived from the events up to the scrub cursor, so moving
// the cursor back shows the run as it was at that moment.
//
// Layers, k9s-style: model.go (runModel, the derived state, notifies), one
// file per panel (ladder.go, packets.go, details.go with fields.go, hex.go,
// sockets.go, statemachine.go, bytes.go, lesson.go, checks.go,
// scenarios.go), layout.go (slots, tabs, zoom), keys.go (the one key
// registry that feeds the hint bar and the help screen) and dashboard.go
// (run control, the pump, shutdown).
package ui
