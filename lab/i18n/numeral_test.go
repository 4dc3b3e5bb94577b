package i18n

import "testing"

func TestNumeral(t *testing.T) {
	for n, want := range map[int]string{1: "一", 3: "三", 10: "十", 11: "十一", 20: "二十", 25: "二十五", 99: "九十九", 100: "100", -2: "-2"} {
		if got := Numeral(n); got != want {
			t.Errorf("Numeral(%d) = %q, want %q", n, got, want)
		}
	}
}
