package decode

import (
	"slices"
	"strings"
)

// AppInfo is what the application decoder (lab/appdecode) named in a
// packet: the messages of one protocol it completed there, in stream order.
// A packet often completes several (a response head and its body's end,
// two TLS records, pipelined requests), so the messages are a list and each
// keeps its own fields; nothing here numbers them ("2.status" exists only
// in the JSON lines, see lab/record).
type AppInfo struct {
	Proto    string       // "http", "tls", "dns"
	Messages []AppMessage // at least one
}

// AppMessage is one application message, or one piece of one: an HTTP
// request or response head, chunks or the end of a body, a TLS record group,
// a DNS query or answer.
type AppMessage struct {
	Summary string    // e.g. "GET /index.html", "200 OK", "A? shop.lab"
	Fields  AppFields // details for the details view, sorted by key
	Partial bool      // its stream started before the capture or lost a segment
}

// AppField is one named detail of a message ("method": "GET").
type AppField struct {
	Key, Value string
}

// AppFields is a message's details, sorted by key, each key once.
type AppFields []AppField

// FieldsOf turns a decoder's map of details into AppFields, sorted by key.
func FieldsOf(m map[string]string) AppFields {
	if len(m) == 0 {
		return nil
	}
	f := make(AppFields, 0, len(m))
	for k, v := range m {
		f = append(f, AppField{Key: k, Value: v})
	}
	slices.SortFunc(f, func(a, b AppField) int { return strings.Compare(a.Key, b.Key) })
	return f
}

// Get is the value of the field k, or "".
func (f AppFields) Get(k string) string {
	v, _ := f.Lookup(k)
	return v
}

// Lookup is the value of the field k and whether the message has it.
func (f AppFields) Lookup(k string) (string, bool) {
	i := slices.IndexFunc(f, func(a AppField) bool { return a.Key == k })
	if i < 0 {
		return "", false
	}
	return f[i].Value, true
}

// Summary is the messages' summaries joined by ", ": the packet's
// application column.
func (a *AppInfo) Summary() string {
	if a == nil {
		return ""
	}
	parts := make([]string, len(a.Messages))
	for i, m := range a.Messages {
		parts[i] = m.Summary
	}
	return strings.Join(parts, ", ")
}

// Partial reports whether any of the messages is partial.
func (a *AppInfo) Partial() bool {
	if a == nil {
		return false
	}
	return slices.ContainsFunc(a.Messages, func(m AppMessage) bool { return m.Partial })
}

// First is the packet's first message (the zero message for none): the one
// a question about "the request" or "the answer" of a packet means.
func (a *AppInfo) First() AppMessage {
	if a == nil || len(a.Messages) == 0 {
		return AppMessage{}
	}
	return a.Messages[0]
}
