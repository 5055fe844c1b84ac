package questionnaire

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// docName accepts exactly what its regexp accepts.
func TestDocNameMatchesRegexp(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/#-]{0,199}$`)
	cases := []string{"", "a", "A9", "-a", ".a", "a-b_c.d/e#f", "é", "aé", "a b", "a\n", "a\x00",
		strings.Repeat("a", 199), strings.Repeat("a", 200), strings.Repeat("a", 201), "a" + strings.Repeat("-", 199)}
	alphabet := []byte("aZ09._/#- \né:+")
	r := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, r.IntN(8)+r.IntN(2)*r.IntN(210))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		if got, want := docName.MatchString(c), re.MatchString(c); got != want {
			t.Errorf("%q: %v, the regexp says %v", c, got, want)
		}
	}
}
