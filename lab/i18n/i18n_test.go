package i18n

import "testing"

func TestFromEnv(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want Lang
	}{
		{map[string]string{}, En},
		{map[string]string{"LANG": "zh_CN.UTF-8"}, Zh},
		{map[string]string{"LANG": "en_US.UTF-8"}, En},
		{map[string]string{"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, En},
		{map[string]string{"LC_MESSAGES": "zh_TW", "LANG": "en_US"}, Zh},
		{map[string]string{"LANG": "fr_FR.UTF-8"}, En},
	}
	for _, tc := range tests {
		if got := FromEnv(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.env, got, tc.want)
		}
	}
}

func TestTextFallsBackToEnglish(t *testing.T) {
	if got := T("hello", "").In(Zh); got != "hello" {
		t.Errorf("%q", got)
	}
	if got := T("hello", "你好").In(Zh); got != "你好" {
		t.Errorf("%q", got)
	}
}
