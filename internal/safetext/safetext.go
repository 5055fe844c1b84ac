// Package safetext escapes text that came from an input before it reaches a
// terminal, a log line or an error message. A keyid, payloadType, builder.id,
// parameter value or certificate SAN can carry escape sequences that repaint
// the screen (show "PASSED" over a failure) or bidirectional overrides that
// reorder what is shown. Every such string is printed through [Term].
package safetext

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Term returns s with every control character, invalid UTF-8 byte and
// bidirectional formatting character escaped in Go syntax (\x1b, \u202e),
// and backslashes doubled so an escape cannot be forged. Printable text,
// spaces included, is returned as it is.
func Term(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x`)
			b.WriteString(strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case r == '\\':
			b.WriteString(`\\`)
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// JSON returns JSON text (such as the output of json.Indent) with every
// control character other than the line breaks and tabs between tokens,
// every bidirectional formatting character and every invalid UTF-8 byte
// written as a JSON \u escape. The result is still JSON and means the same:
// backslashes are left alone, since in JSON they only start escapes (a
// forged "\u202e" in the input is "\\u202e" in its JSON text already).
func JSON(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\ufffd`)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Quote is [strconv.Quote] restricted to ASCII output, for values shown in
// quotes ("expected %s, got %s").
func Quote(s string) string { return strconv.QuoteToASCII(s) }

func needsEscape(s string) bool {
	// ASCII first: among its runes, the control characters (C0 and DEL)
	// and the backslash are the ones Term escapes. Eight bytes at a time
	// while all are ASCII: a word has a byte below 0x20, a DEL or a
	// backslash exactly when the classic "has a zero byte" test finds one
	// in it minus 0x20 (bytes below 0x80 cannot borrow into a byte that
	// is not), or in it XOR 0x7f or 0x5c.
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(v uint64) bool { return (v-ones)&^v&highs != 0 }
	i := 0
	for ; i+8 <= len(s); i += 8 {
		b := s[i : i+8] // one bounds check for the word, not eight
		w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
		if w&highs != 0 {
			break // non-ASCII: byte by byte from here
		}
		if (w-0x20*ones)&^w&highs != 0 || hasZero(w^0x7f*ones) || hasZero(w^'\\'*ones) {
			return true
		}
	}
	for ; i < len(s) && s[i] < utf8.RuneSelf; i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' {
			return true
		}
	}
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r == '\\' || unsafeRune(r) {
			return true
		}
		i += size
	}
	return false
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) ||
		r == '\u2028' || r == '\u2029' || r == '\ufeff'
}
