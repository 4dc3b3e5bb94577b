package record_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/record"
	"github.com/netlab/netlab/lab/timeline"
)

// TestJSONAppNumbering: a packet line's "app" object keeps schema v1's
// shape, one summary and one map of fields, the first message's fields
// under their names and the next ones' numbered from 2.
func TestJSONAppNumbering(t *testing.T) {
	msg := func(summary string, partial bool, kv ...string) decode.AppMessage {
		f := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			f[kv[i]] = kv[i+1]
		}
		return decode.AppMessage{Summary: summary, Fields: decode.FieldsOf(f), Partial: partial}
	}
	for _, tc := range []struct {
		name string
		app  *decode.AppInfo
		want string // the "app" object; "" for none
	}{
		{"none", nil, ""},
		{"one message", &decode.AppInfo{Proto: "dns", Messages: []decode.AppMessage{msg("A? shop.lab id=7", false, "message", "query", "id", "7")}},
			`{"proto":"dns","summary":"A? shop.lab id=7","fields":{"id":"7","message":"query"}}`},
		{"no fields", &decode.AppInfo{Proto: "tls", Messages: []decode.AppMessage{msg("Application Data", false)}},
			`{"proto":"tls","summary":"Application Data"}`},
		{"three messages", &decode.AppInfo{Proto: "http", Messages: []decode.AppMessage{
			msg("200 OK", false, "status", "200", "message", "response"),
			msg("body 5 B", true, "part", "end", "body.bytes", "5"),
			msg("GET /next", false, "method", "GET"),
		}}, `{"proto":"http","summary":"200 OK, body 5 B, GET /next","fields":{"2.body.bytes":"5","2.part":"end","3.method":"GET","message":"response","status":"200"},"partial":true}`},
		{"fields only on a later message", &decode.AppInfo{Proto: "http", Messages: []decode.AppMessage{msg("chunk", false), msg("body 0 B", false, "part", "end")}},
			`{"proto":"http","summary":"chunk, body 0 B","fields":{"2.part":"end"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			j := record.NewJSON(&buf, i18n.En)
			if err := j.Event(&timeline.Event{Kind: timeline.KindPacket, Packet: &decode.Packet{Proto: decode.ProtoUDP, App: tc.app}}); err != nil {
				t.Fatal(err)
			}
			var line struct {
				App json.RawMessage `json:"app"`
			}
			if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
				t.Fatalf("%v: %s", err, buf.Bytes())
			}
			if got := string(line.App); got != tc.want {
				t.Errorf("app\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}
