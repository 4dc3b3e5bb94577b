package lesson_test

import (
	"fmt"

	"github.com/netlab/netlab/lab/check"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/lesson"
	"github.com/netlab/netlab/lab/session"
)

// A lesson in two acts. Define numbers them: the narration says "Act 2: …",
// the lesson's act paragraphs start "Act 2 — …", and an act's checks are
// named "act 2: …" and see only that act's events.
func ExampleDefine() {
	atEOF := &lesson.Act{
		Title:  i18n.T("the server closes at EOF.", "服务器读到 EOF 就关闭。"),
		Lesson: i18n.T("three segments: the FIN carries the ACK.", "三个报文段:FIN 捎带 ACK。"),
		Checks: []check.Check{check.New("three segments close the connection", "三个报文段关闭连接",
			func(v *check.View) (bool, i18n.Text) { return true, check.Plain("") })},
	}
	late := &lesson.Act{
		Title:  i18n.T("the server waits 150 ms.", "服务器等 150 毫秒。"),
		Lesson: i18n.T("four segments.", "四个报文段。"),
		Checks: []check.Check{check.New("four segments close the connection", "四个报文段关闭连接",
			func(v *check.View) (bool, i18n.Text) { return true, check.Plain("") })},
	}
	sc := lesson.Define(lesson.Scenario{
		Name:   "close",
		Lesson: i18n.T("The four-way close.", "四次挥手。"),
		Acts:   []*lesson.Act{atEOF, late},
		Run: func(s *session.Session) error {
			s.Act(atEOF)
			// … the first connection …
			s.Act(late)
			// … the second …
			return nil
		},
	})
	fmt.Println(sc.Lesson.En)
	for _, c := range sc.Checks {
		fmt.Println(c.Act, c.Name.En, "/", c.Name.Zh)
	}
	// Output:
	// The four-way close.
	//
	// Act 1 — three segments: the FIN carries the ACK.
	//
	// Act 2 — four segments.
	// 1 act 1: three segments close the connection / 第一幕:三个报文段关闭连接
	// 2 act 2: four segments close the connection / 第二幕:四个报文段关闭连接
}
