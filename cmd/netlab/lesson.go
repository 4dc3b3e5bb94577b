package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/render"
)

func (a *app) lessonCmd() *cobra.Command {
	var width int
	cmd := &cobra.Command{
		Use:   "lesson NAME",
		Short: "print a scenario's lesson and the checks its run will make, without running it",
		Long: `Print the lesson of scenario NAME (in the --lang language), the lanes of its
ladder and the checks a run makes, without running anything: to read before
running, or to print for a course.`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			return a.catalog.Names(), cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := a.lookup(args[0])
			if err != nil {
				return err
			}
			writeLesson(a.stdout, sc, a.language(), max(a.width(width, a.stdout), 40))
			return nil
		},
	}
	cmd.Flags().IntVar(&width, "width", 0, "wrap at this many columns (default: the terminal's, or 80)")
	return cmd
}

// writeLesson prints what a scenario declares, section by section, without
// running it. A part scenarios come to declare is one more line in the list
// below.
func writeLesson(w io.Writer, sc *lesson.Scenario, lang i18n.Lang, width int) {
	t := func(en, zh string) string { return i18n.T(en, zh).In(lang) }
	sections := []struct {
		head  string
		lines []string
	}{
		{"", []string{sc.Name + " · " + sc.Title.In(lang), sc.Summary.In(lang)}},
		{t("Lesson", "讲解"), []string{sc.Lesson.In(lang)}},
		{t("Acts, where the run pauses in the dashboard", "各幕(仪表盘在这里暂停)"), actLines(sc, lang)},
		{t("Lanes of the ladder, left to right", "梯形图的泳道(从左到右)"), []string{strings.Join(sc.Lanes, " · ")}},
		{t("What the run checks, on its own capture and kernel states", "运行时检查的内容(基于本次运行的抓包和内核状态)"), checkLines(sc, lang)},
		{t("Runs on loopback only", "只在环回接口上运行"), loopbackOnly(sc, lang)},
		{t("Not on a wire you impair", "不在人为劣化的线路上运行"), cleanOnly(sc, lang)},
		{"", []string{fmt.Sprintf(t("Run it: netlab run %s · netlab ui %s", "运行:netlab run %s · netlab ui %s"), sc.Name, sc.Name)}},
	}
	for i, s := range sections {
		if len(s.lines) == 0 {
			continue
		}
		if i > 0 {
			fmt.Fprintln(w)
		}
		if s.head != "" {
			fmt.Fprintln(w, s.head)
		}
		for _, l := range s.lines {
			// A list item ("· ...") wraps under its text, not its mark.
			indent := ""
			if strings.HasPrefix(l, "· ") {
				indent = "  "
			}
			for k, line := range render.Wrap(l, width-len(indent)) {
				if k > 0 {
					line = indent + line
				}
				fmt.Fprintln(w, line)
			}
		}
	}
}

// checkLines lists the scenario's checks in the lesson's language.
func checkLines(sc *lesson.Scenario, lang i18n.Lang) []string {
	lines := make([]string, len(sc.Checks))
	for i, c := range sc.Checks {
		lines[i] = "· " + c.Name.In(lang)
		if scope := c.Needs.Scope(); !scope.IsZero() {
			lines[i] += i18n.T(" (", "(").In(lang) + scope.In(lang) + i18n.T(")", ")").In(lang)
		}
	}
	return lines
}

// loopbackOnly says why the scenario refuses a lab wire, if it does.
func loopbackOnly(sc *lesson.Scenario, lang i18n.Lang) []string {
	if why, refused := sc.WireRefused(); refused {
		return []string{why.In(lang)}
	}
	return nil
}

// cleanOnly says why the scenario refuses impairment flags, if it does.
func cleanOnly(sc *lesson.Scenario, lang i18n.Lang) []string {
	if sc.CleanOnly.IsZero() {
		return nil
	}
	return []string{sc.CleanOnly.In(lang)}
}

// actLines lists the scenario's acts with their numbers, as the narration
// starts them ("Act 2: …" / "第二幕:…").
func actLines(sc *lesson.Scenario, lang i18n.Lang) []string {
	lines := make([]string, len(sc.Acts))
	for i, a := range sc.Acts {
		n := a.ActNumber()
		lines[i] = i18n.T(fmt.Sprintf("· Act %d: %s", n, a.Title.En), "· 第"+i18n.Numeral(n)+"幕:"+a.Title.Zh).In(lang)
	}
	return lines
}
