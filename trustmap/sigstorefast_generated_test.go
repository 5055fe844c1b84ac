package trustmap

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// A grammar-driven generator of bundle-shaped documents, with
// mutations at every level (proto names, case variants, unknown names,
// null, wrong types, escapes, base64 and int64 edge cases, duplicates,
// oneof conflicts), each checked with checkBundleFastReading. Byte-level
// fuzzing rarely reaches the deep members; this does.

type bgen struct {
	r   *rand.Rand
	sb  strings.Builder
	mut int // 1 in mut values/names are mutated
}

func (g *bgen) p(n int) bool { return g.r.IntN(n) == 0 }

func (g *bgen) ws() {
	if g.p(8) {
		g.sb.WriteString([]string{" ", "\n", "\t", "\r", " \n "}[g.r.IntN(5)])
	}
}

var b64Samples = []string{
	"", "AA", "AA==", "AAA", "AAA=", "AAAA", "AQID", "AQ", "AQ=", "A", "A===", "=", "====",
	"-_-_", "+/+/", "-/", "+_", "AB-_", "AB+/", "AB==AB==", "AB=A", "QUJD", "QUJDRA", "QUJDRA==",
	"QUJDRB==", "QUJDRQ", "wNI9atQGlz+VWfO6LRygH4QUfY/8W4RFwiT5i5WRgB0=", "wNI9atQGlz-VWfO6LRygH4QUfY_8W4RFwiT5i5WRgB0",
	"e30=", "e30", "e31=", "e3==", " AAA", "AA A", "AAAA ", "AA\\nAA", "AA\\/AA", "AA\\u0041A", "\\r\\nAAAA",
	"AA\\rAA", "A\\u003d\\u003d", "//==", "__==", "-w==", "+w==", "_w", "/w",
}

var strSamples = []string{
	"", "t", "application/vnd.in-toto+json", "dsse", "hashedrekord", "0.0.1", `\"`, `\\`, `\/`, `\b\f\n\r\t`,
	`\u0000`, `\u0041`, `\ud83d\ude00`, `\ud83d`, "\u2028", "é", "\xff", "\x01", `a\nb`, `\x`, `\u00e9`,
	"application/vnd.dev.sigstore.bundle.v0.3+json",
}

var intSamples = []string{
	`"0"`, `"1"`, `"7"`, `"00"`, `"01"`, `"-1"`, `"-0"`, `"+1"`, `"1e3"`, `"1.0"`, `" 1"`, `"1 "`, `""`,
	`"9223372036854775807"`, `"9223372036854775808"`, `"18446744073709551615"`, `"-9223372036854775808"`,
	`0`, `1`, `-1`, `1e3`, `1.0`, `1.5`, `9223372036854775807`, `9223372036854775808`, `null`, `true`, `"\u0031"`,
	`"1\u0000"`, `"0x1"`, `"１"`,
}

var algSamples = []string{
	`"SHA2_256"`, `"SHA2_384"`, `"SHA2_512"`, `"SHA3_256"`, `"SHA3_384"`, `"HASH_ALGORITHM_UNSPECIFIED"`, `"sha2_256"`,
	`"SHA1"`, `""`, `1`, `"1"`, `null`, `0`, `99`, `"SHA2_256 "`, `"SHA2\u005f256"`,
}

// name writes name, sometimes mutated.
func (g *bgen) name(n string) {
	if g.p(g.mut) {
		switch g.r.IntN(6) {
		case 0: // proto name
			var b strings.Builder
			for _, c := range n {
				if c >= 'A' && c <= 'Z' {
					b.WriteByte('_')
					c += 'a' - 'A'
				}
				b.WriteRune(c)
			}
			n = b.String()
		case 1:
			n = strings.ToUpper(n[:1]) + n[1:]
		case 2:
			n = strings.ToLower(n)
		case 3:
			n = n + "x"
		case 4:
			n = `\u00` + strconv.FormatInt(int64(n[0]), 16) + n[1:]
		case 5:
			n = strings.Replace(n, "k", "\u212a", 1)
		}
	}
	g.sb.WriteString(`"` + n + `"`)
	g.ws()
	g.sb.WriteByte(':')
	g.ws()
}

// junk writes a value of a random JSON type.
func (g *bgen) junk() {
	g.sb.WriteString([]string{`null`, `1`, `true`, `"x"`, `{}`, `[]`, `[null]`, `{"a":1}`, `""`, `-0`, `1e999`}[g.r.IntN(11)])
}

type member struct {
	name string
	val  func()
}

// object writes an object from members, in random order, some left out,
// some given twice, sometimes an unknown member.
func (g *bgen) object(ms []member) {
	if g.p(g.mut * 2) {
		g.junk()
		return
	}
	g.sb.WriteByte('{')
	g.ws()
	first := true
	sep := func() {
		if !first {
			g.sb.WriteByte(',')
			g.ws()
		}
		first = false
	}
	g.r.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
	for _, m := range ms {
		if g.p(5) {
			continue
		}
		times := 1
		if g.p(g.mut * 3) {
			times = 2
		}
		for range times {
			sep()
			g.name(m.name)
			m.val()
			g.ws()
		}
	}
	if g.p(g.mut * 3) {
		sep()
		g.name("extra")
		g.junk()
	}
	g.sb.WriteByte('}')
}

func (g *bgen) list(elem func()) {
	if g.p(g.mut * 2) {
		g.junk()
		return
	}
	g.sb.WriteByte('[')
	n := g.r.IntN(4)
	for i := range n {
		if i > 0 {
			g.sb.WriteByte(',')
		}
		g.ws()
		if g.p(g.mut * 3) {
			g.junk()
		} else {
			elem()
		}
	}
	g.sb.WriteByte(']')
}

func (g *bgen) b64() {
	if g.p(g.mut * 2) {
		g.junk()
		return
	}
	if !g.p(g.mut / 3) {
		g.sb.WriteString(`"` + []string{"", "AQID", "AA", "AAA", "-_-_", "+/+/", "e30=", "QUJDRA", "_w", "/w"}[g.r.IntN(10)] + `"`)
		return
	}
	g.sb.WriteString(`"` + b64Samples[g.r.IntN(len(b64Samples))] + `"`)
}

func (g *bgen) str() {
	if g.p(g.mut * 2) {
		g.junk()
		return
	}
	var b strings.Builder
	for range g.r.IntN(3) {
		b.WriteString(strSamples[g.r.IntN(len(strSamples))])
	}
	g.sb.WriteString(`"` + b.String() + `"`)
}

func (g *bgen) i64() {
	if !g.p(g.mut / 3) {
		g.sb.WriteString(intSamples[g.r.IntN(3)])
		return
	}
	g.sb.WriteString(intSamples[g.r.IntN(len(intSamples))])
}

func (g *bgen) alg() { g.sb.WriteString(algSamples[g.r.IntN(len(algSamples))]) }

func (g *bgen) mediaType() {
	mt := []string{
		`"application/vnd.dev.sigstore.bundle.v0.3+json"`, `"application/vnd.dev.sigstore.bundle+json;version=0.1"`,
		`"application\/vnd.dev.sigstore.bundle.v0.3+json"`, `"application/vnd.dev.sigstore.bundle"`, `"application/vnd.dev.sigstore.bundl"`,
		`"application\u002fvnd.dev.sigstore.bundle.v0.3+json"`, `null`, `"APPLICATION/vnd.dev.sigstore.bundle"`, `1`,
	}
	if g.p(g.mut) {
		g.sb.WriteString(mt[g.r.IntN(len(mt))])
	} else {
		g.sb.WriteString(mt[g.r.IntN(2)])
	}
}

func (g *bgen) cert() { g.object([]member{{"rawBytes", g.b64}}) }

func (g *bgen) tlogEntry() {
	g.object([]member{
		{"logIndex", g.i64},
		{"logId", func() { g.object([]member{{"keyId", g.b64}}) }},
		{"kindVersion", func() { g.object([]member{{"kind", g.str}, {"version", g.str}}) }},
		{"integratedTime", g.i64},
		{"inclusionPromise", func() { g.object([]member{{"signedEntryTimestamp", g.b64}}) }},
		{"inclusionProof", func() {
			g.object([]member{
				{"logIndex", g.i64}, {"rootHash", g.b64}, {"treeSize", g.i64},
				{"hashes", func() { g.list(g.b64) }},
				{"checkpoint", func() { g.object([]member{{"envelope", g.str}}) }},
			})
		}},
		{"canonicalizedBody", g.b64},
	})
}

func (g *bgen) material() {
	content := []member{
		{"publicKey", func() { g.object([]member{{"hint", g.str}}) }},
		{"x509CertificateChain", func() { g.object([]member{{"certificates", func() { g.list(g.cert) }}}) }},
		{"certificate", g.cert},
	}
	ms := []member{content[g.r.IntN(3)]}
	if g.p(g.mut) {
		ms = append(ms, content[g.r.IntN(3)])
	}
	ms = append(ms,
		member{"tlogEntries", func() { g.list(g.tlogEntry) }},
		member{"timestampVerificationData", func() {
			g.object([]member{{"rfc3161Timestamps", func() {
				g.list(func() { g.object([]member{{"signedTimestamp", g.b64}}) })
			}}})
		}},
	)
	g.object(ms)
}

// gen returns one document.
func (g *bgen) gen() string {
	g.sb.Reset()
	content := []member{
		{"dsseEnvelope", func() {
			g.object([]member{
				{"payload", g.b64}, {"payloadType", g.str},
				{"signatures", func() { g.list(func() { g.object([]member{{"sig", g.b64}, {"keyid", g.str}}) }) }},
			})
		}},
		{"messageSignature", func() {
			g.object([]member{
				{"messageDigest", func() { g.object([]member{{"algorithm", g.alg}, {"digest", g.b64}}) }},
				{"signature", g.b64},
			})
		}},
	}
	ms := []member{{"mediaType", g.mediaType}, {"mediaType", g.mediaType}, {"verificationMaterial", g.material}, content[g.r.IntN(2)]}
	if g.p(g.mut) {
		ms = append(ms, content[g.r.IntN(2)])
	}
	g.ws()
	g.object(ms)
	g.ws()
	if g.p(g.mut * 4) {
		g.sb.WriteString([]string{"x", " {}", ",", "\u00a0", "\x00"}[g.r.IntN(5)])
	}
	return g.sb.String()
}

func TestBundleFastReadingGenerated(t *testing.T) {
	n := 100000
	if s := os.Getenv("REVIEW_GEN_N"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	seed := uint64(1)
	if s := os.Getenv("REVIEW_GEN_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	g := &bgen{r: rand.New(rand.NewPCG(seed, 2))}
	fast := 0
	for i := range n {
		g.mut = 4 + i%40
		doc := g.gen()
		if checkBundleFastReading(t, []byte(doc)) {
			fast++
		}
		if i%10 == 0 {
			checkReadBundle(t, []byte(doc))
		}
	}
	t.Logf("%d of %d read in one pass", fast, n)
}
