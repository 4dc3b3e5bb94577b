package decode

import (
	"reflect"
	"testing"
)

func TestAppFields(t *testing.T) {
	f := FieldsOf(map[string]string{"status": "200", "body.bytes": "0", "empty": ""})
	if want := (AppFields{{"body.bytes", "0"}, {"empty", ""}, {"status", "200"}}); !reflect.DeepEqual(f, want) {
		t.Fatalf("FieldsOf = %v, want sorted %v", f, want)
	}
	for _, tc := range []struct {
		key, want string
		ok        bool
	}{
		{"status", "200", true},
		{"body.bytes", "0", true},
		{"empty", "", true},
		{"missing", "", false},
		{"2.status", "", false},
	} {
		if v, ok := f.Lookup(tc.key); v != tc.want || ok != tc.ok {
			t.Errorf("Lookup(%q) = %q, %v; want %q, %v", tc.key, v, ok, tc.want, tc.ok)
		}
		if v := f.Get(tc.key); v != tc.want {
			t.Errorf("Get(%q) = %q, want %q", tc.key, v, tc.want)
		}
	}
	if FieldsOf(nil) != nil || FieldsOf(map[string]string{}) != nil {
		t.Error("no details, no fields")
	}
}

func TestAppInfo(t *testing.T) {
	ok := AppMessage{Summary: "200 OK", Fields: AppFields{{"status", "200"}}}
	end := AppMessage{Summary: "body 5 B", Partial: true}
	for _, tc := range []struct {
		name    string
		a       *AppInfo
		summary string
		partial bool
		first   string // the first message's summary
	}{
		{"nil", nil, "", false, ""},
		{"none", &AppInfo{Proto: "http"}, "", false, ""},
		{"one", &AppInfo{Proto: "http", Messages: []AppMessage{ok}}, "200 OK", false, "200 OK"},
		{"partial later", &AppInfo{Proto: "http", Messages: []AppMessage{ok, end}}, "200 OK, body 5 B", true, "200 OK"},
		{"partial first", &AppInfo{Proto: "http", Messages: []AppMessage{end, ok}}, "body 5 B, 200 OK", true, "body 5 B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s := tc.a.Summary(); s != tc.summary {
				t.Errorf("Summary() = %q, want %q", s, tc.summary)
			}
			if p := tc.a.Partial(); p != tc.partial {
				t.Errorf("Partial() = %v, want %v", p, tc.partial)
			}
			if s := tc.a.First().Summary; s != tc.first {
				t.Errorf("First().Summary = %q, want %q", s, tc.first)
			}
		})
	}
}
