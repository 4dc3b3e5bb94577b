package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/netlab/netlab/lab/golden"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/scenarios"
)

// TestLessonGolden: `netlab lesson NAME` prints the lesson, lanes and
// checks in the --lang language, at 80 columns, without running.
func TestLessonGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		lang i18n.Lang
	}{{"echo", i18n.En}, {"echo", i18n.Zh}, {"browse", i18n.En}} {
		t.Run(tc.name+"-"+string(tc.lang), func(t *testing.T) {
			sc, err := scenarios.Catalog().Lookup(tc.name)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			writeLesson(&b, sc, tc.lang, 80)
			golden.Check(t, "lesson-"+tc.name+"-"+string(tc.lang), b.Bytes())
			for _, c := range sc.Checks {
				if !strings.Contains(strings.Join(strings.Fields(b.String()), " "), c.Name.In(tc.lang)) {
					t.Errorf("check %q not printed", c.Name.In(tc.lang))
				}
			}
		})
	}
}

// TestLessonCommand: the command runs nothing, follows --lang, and an
// unknown --lang is a usage error naming the accepted values.
func TestLessonCommand(t *testing.T) {
	r := netlab(t, "lesson", "handshake", "--lang", "zh")
	if r.code != 0 || !strings.Contains(r.stdout, "讲解") || strings.Contains(r.stdout, "packets captured") {
		t.Errorf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"lesson", "echo", "--lang", "xx"}, {"list", "--lang", "fr"}} {
		r := netlab(t, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "en (English) and zh (中文)") {
			t.Errorf("%v: exit %d, stderr %q: want 2 and the accepted values", args, r.code, r.stderr)
		}
	}
}
