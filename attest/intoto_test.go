package attest

import (
	"encoding/json"
	"testing"

	ita1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// The capability statement Hallmark writes is read the same way by the
// in-toto attestation library: it parses and validates with the library's
// Statement type, with the same type, subject and predicateType, and the
// predicate survives the library's reading member for member.
func TestCapabilityStatementReadByInToto(t *testing.T) {
	env := issue(t, operatorKey(t), "l3-hosted", IssueOptions{AnswersName: "l3-hosted.json"})
	e, err := ParseEnvelope(env)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := DecodePayload(e)
	if err != nil {
		t.Fatal(err)
	}
	st, p, err := ParseStatement(payload)
	if err != nil {
		t.Fatal(err)
	}
	var it ita1.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(payload, &it); err != nil {
		t.Fatalf("the in-toto library cannot parse the statement Hallmark writes: %v", err)
	}
	if err := it.Validate(); err != nil {
		t.Fatalf("the in-toto library refuses the statement Hallmark writes: %v", err)
	}
	if it.GetType() != StatementType || it.GetPredicateType() != PredicateType || len(it.GetSubject()) != 1 ||
		it.GetSubject()[0].GetName() != st.Subject[0].Name || it.GetSubject()[0].GetDigest()["sha256"] != st.Subject[0].Digest["sha256"] {
		t.Fatalf("the library reads %v", &it)
	}
	// The predicate as the library reads it (a Struct) is the one Hallmark
	// signed, compared as JSON values.
	fromLib, _ := protojson.Marshal(it.GetPredicate())
	var a, b any
	json.Unmarshal(fromLib, &a)
	mine, _ := json.Marshal(p)
	json.Unmarshal(mine, &b)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Fatalf("predicate differs:\nlibrary %s\nhallmark %s", ja, jb)
	}
}
