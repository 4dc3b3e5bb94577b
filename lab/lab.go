// Package lab is the root of netlab's engine and views; it holds no code of
// its own, only the test that keeps its packages in layers (deps_test.go).
//
// The layers, lowest first: tcpstate, i18n and decode (values and bytes);
// flow, appdecode, timeline and check (pure functions of packets and
// events); capture, sockstate, sandbox, impair (the kernel); session
// (what a lesson calls); engine and runner (one run); render, record and ui
// (views of a timeline). The scenarios package sits on top and the command
// (cmd/netlab) wires it together.
package lab
