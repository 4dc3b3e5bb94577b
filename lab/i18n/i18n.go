// Package i18n holds the two languages netlab's lessons are written in:
// English and Simplified Chinese.
package i18n

import "strings"

// Lang is a lesson language.
type Lang string

// The supported languages.
const (
	En Lang = "en"
	Zh Lang = "zh"
)

// Text is one message in every supported language.
type Text struct {
	En string `json:"en"`
	Zh string `json:"zh,omitempty"`
}

// T builds a Text from its English and Chinese versions.
func T(en, zh string) Text { return Text{En: en, Zh: zh} }

// In returns the text in lang, falling back to English where no translation exists.
func (t Text) In(lang Lang) string {
	if lang == Zh && t.Zh != "" {
		return t.Zh
	}
	return t.En
}

// IsZero reports whether the text is empty in every language.
func (t Text) IsZero() bool { return t.En == "" && t.Zh == "" }

// Parse accepts "en", "zh", "zh_CN.UTF-8", "zh-Hans" and the like.
func Parse(s string) (Lang, bool) {
	s = strings.ToLower(s)
	switch {
	case strings.HasPrefix(s, "zh"):
		return Zh, true
	case strings.HasPrefix(s, "en"), s == "c", s == "posix", strings.HasPrefix(s, "c."):
		return En, true
	}
	return En, false
}

// FromEnv picks the language from the environment the way gettext does:
// LC_ALL, then LC_MESSAGES, then LANG; English when none names a language we have.
func FromEnv(getenv func(string) string) Lang {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := getenv(k); v != "" {
			l, _ := Parse(v)
			return l
		}
	}
	return En
}
