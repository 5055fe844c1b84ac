package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestTerm(t *testing.T) {
	for in, want := range map[string]string{
		"plain text: ok":      "plain text: ok",
		"\x1b[2J\x1b[HPASSED": `\x1b[2J\x1b[HPASSED`,
		"a\nb\tc\rd":          `a\nb\tc\rd`,
		"bidi \u202egnp.exe":  `bidi \u202egnp.exe`,
		"c1 \u009b31m":        `c1 \u009b31m`,
		"bad \xff byte":       `bad \xff byte`,
		`forged \x1b`:         `forged \\x1b`,
		"unicode é ✓":         "unicode é ✓",
	} {
		if got := Term(in); got != want {
			t.Errorf("Term(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzTerm(f *testing.F) {
	f.Add("\x1b]0;title\x07")
	f.Add("ok")
	f.Fuzz(func(t *testing.T, s string) {
		out := Term(s)
		for _, r := range out {
			if unsafeRune(r) {
				t.Fatalf("Term(%q) = %q keeps %U", s, out, r)
			}
		}
		if !strings.Contains(s, "\\") && !needsEscape(s) && out != s {
			t.Fatalf("changed safe text %q", s)
		}
		if got, want := needsEscape(s), needsEscapeRunes(s); got != want {
			t.Fatalf("needsEscape(%q) = %v, the rune-by-rune rule says %v", s, got, want)
		}
	})
}

// needsEscapeRunes is needsEscape's rule, one rune at a time.
func needsEscapeRunes(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\\' || unsafeRune(r) {
			return true
		}
		i += size
	}
	return false
}

// Every ASCII character at every position of a word, with safe text
// around it: the word-at-a-time test finds exactly those the rule does.
func TestNeedsEscapeWords(t *testing.T) {
	for c := 0; c < 0x80; c++ {
		for n := 0; n < 20; n++ {
			for _, tail := range []string{"", "é", "abcdefghij"} {
				s := strings.Repeat("a", n) + string(rune(c)) + strings.Repeat("~", 19-n) + tail
				if got, want := needsEscape(s), needsEscapeRunes(s); got != want {
					t.Errorf("needsEscape(%q) = %v, want %v", s, got, want)
				}
			}
		}
	}
}

// JSON text stays JSON: escapes are not doubled, unsafe runes become \u
// escapes, line breaks between tokens stay.
func TestJSON(t *testing.T) {
	for in, want := range map[string]string{
		"{\n  \"k\": \"-----BEGIN\\nAB\\n\"\n}": "{\n  \"k\": \"-----BEGIN\\nAB\\n\"\n}",
		"\"\x1b[31mPASSED\u202e\"":              `"\u001b[31mPASSED\u202e"`,
		"\"\\u202e\"":                           `"\u202e"`, // a JSON escape in the input stays one
		"\"\xff\"":                              `"\ufffd"`,
	} {
		if got := JSON(in); got != want {
			t.Errorf("JSON(%q) = %q, want %q", in, got, want)
		}
	}
}

// needsEscape's ASCII loop agrees with the rune-by-rune rule on every
// ASCII character, alone and before non-ASCII text.
func TestNeedsEscapeASCII(t *testing.T) {
	for c := 0; c < 0x80; c++ {
		for _, s := range []string{string(rune(c)), "ab" + string(rune(c)) + "é", "é" + string(rune(c))} {
			want := false
			for _, r := range s {
				want = want || r == '\\' || unsafeRune(r)
			}
			if got := needsEscape(s); got != want {
				t.Errorf("needsEscape(%q) = %v, want %v", s, got, want)
			}
		}
	}
}
