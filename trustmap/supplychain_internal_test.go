package trustmap

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
)

// GitHub's provenance (the publish-to-bcr corpus bundle) names its source
// revision where the source check reads it: resolvedDependencies[0] with a
// git+ URI and a gitCommit digest, the same repository as
// externalParameters /workflow/repository.
func TestSourceRevisionOfGitHubProvenance(t *testing.T) {
	b, err := os.ReadFile("../testdata/corpus/slsa-verifier/bcr/MODULE.bazel.intoto.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var bundle struct {
		DSSEEnvelope struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(b, &bundle); err != nil {
		t.Fatal(err)
	}
	payload, _ := base64.StdEncoding.DecodeString(bundle.DSSEEnvelope.Payload)
	var st statement
	if err := json.Unmarshal(payload, &st); err != nil {
		t.Fatal(err)
	}
	prov, err := parseProvenance(st.PredicateType, st.Predicate)
	if err != nil {
		t.Fatal(err)
	}
	i, ok := sourceRevision(prov)
	if !ok || i != 0 {
		t.Fatalf("source revision %d %v", i, ok)
	}
	dep := prov.Dependencies[i]
	repo, _ := splitGitURI(dep.URI)
	if repo != "https://github.com/aspect-build/rules_lint" || commitDigests(dep)["gitCommit"] != "8f70009fde0c94ade6ce2a054b94718c819126ec" {
		t.Fatalf("source %s %v", repo, dep.Digest)
	}
	srcs, err := prov.sources()
	if err != nil || len(srcs) < 2 {
		t.Fatalf("sources %v %v", srcs, err)
	}
	for _, s := range srcs {
		if normalizeSource(s.uri) != normalizeSource(repo) {
			t.Fatalf("%s names %s", s.where, s.uri)
		}
	}
}
