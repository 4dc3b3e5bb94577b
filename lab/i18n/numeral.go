package i18n

import "strconv"

// Numeral writes n (0 to 99) in Chinese numerals, as acts are counted in
// Chinese: 一, 二, …, 十, 十一, 二十. Other numbers keep their digits.
func Numeral(n int) string {
	digits := []string{"零", "一", "二", "三", "四", "五", "六", "七", "八", "九"}
	switch {
	case n < 0 || n > 99:
		return strconv.Itoa(n)
	case n < 10:
		return digits[n]
	}
	s := "十"
	if n >= 20 {
		s = digits[n/10] + s
	}
	if n%10 != 0 {
		s += digits[n%10]
	}
	return s
}
