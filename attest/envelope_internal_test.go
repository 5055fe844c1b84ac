package attest

import (
	"reflect"
	"testing"

	"github.com/hallmark-build/hallmark/internal/strictjson"
)

// envelopeSeeds are envelopes in the plain form and next to it.
var envelopeSeeds = []string{
	`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"k","sig":"AA=="}]}`,
	`{"payload":"e30=","payloadType":"t","signatures":[{"sig":"AA=="},{"keyid":"","sig":""}]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[]}`,
	`{"payloadType":"t","payload":"e30="}`,
	` {"payloadType" : "t" ,"payload":"e30=","signatures":[ {"keyid":"k","sig":"AA=="} ] } `,
	`{"payloadType":"t","payloadType":"u","payload":"e30=","signatures":[]}`,
	`{"payloadType":"t","PayloadType":"u","payload":"e30=","signatures":[]}`,
	`{"payloadtype":"t","payload":"e30=","signatures":[]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[{"keyid":"k","KeyID":"j","sig":"AA=="}]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[{"keyid":"k","keyid":"j","sig":"AA=="}]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[{"sig":"AA==","extra":{"a":1,"A":2}}]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[],"extra":1}`,
	`{"payloadType":"\u0074","payload":"e30=","signatures":[]}`,
	`{"payloadType":null,"payload":"e30=","signatures":[]}`,
	`{"payloadType":"t","payload":"e30=","signatures":null}`,
	`{"payloadType":"t","payload":"e30=","signatures":[null]}`,
	`{"payloadType":"t","payload":"e30=","signatures":[]} {}`,
	`{"payloadType":"t","payload":"e30=","signatures":[]`,
	"{\"payloadType\":\"\xff\",\"payload\":\"e30=\",\"signatures\":[]}",
	`[]`, `null`, ``,
}

// TestParseEnvelopePlain: the plain reading reads the plain form, and
// only what the strict decoder reads the same way.
func TestParseEnvelopePlain(t *testing.T) {
	plain := 0
	for _, s := range envelopeSeeds {
		if checkEnvelopePlain(t, []byte(s)) {
			plain++
		}
	}
	if plain != 5 {
		t.Fatalf("%d seeds read plain, want 5", plain)
	}
}

func FuzzParseEnvelopePlain(f *testing.F) {
	for _, s := range envelopeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkEnvelopePlain(t, b) })
}

func checkEnvelopePlain(t *testing.T, b []byte) bool {
	t.Helper()
	got, ok := parseEnvelopePlain(b)
	if !ok {
		return false
	}
	var want Envelope
	if err := strictjson.UnmarshalOpen(b, &want); err != nil {
		t.Fatalf("%s: read plain, the strict decoder refuses it: %v", b, err)
	}
	if !reflect.DeepEqual(*got, want) {
		t.Fatalf("%s: plain %#v, strict %#v", b, *got, want)
	}
	return true
}
