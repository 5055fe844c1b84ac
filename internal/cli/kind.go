package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hallmark-build/hallmark/internal/doctype"
)

// CheckKind refuses, as bad usage (exit 2), a document that is another of
// the documents Hallmark and trustmap read: it says what name is, which
// command reads it and what was expected ("--policy roots.json is a
// roots-of-trust file, read by trustmap verify --roots (...): expected an
// expectations policy"). Documents it cannot tell (not JSON, an unknown
// schema, another DSSE envelope) pass: the strict parser that reads them next
// says what is wrong. name is the flag and path ("--policy roots.json") or
// the path of a positional argument.
func CheckKind(name string, b []byte, expected string, accept ...doctype.Kind) error {
	d := doctype.Identify(b)
	switch d.Kind {
	case doctype.Unknown, doctype.NotJSON, doctype.UnknownJSONSchema, doctype.Envelope, doctype.InTotoEnvelope, doctype.Statement:
		return nil
	}
	if slices.Contains(accept, d.Kind) {
		return nil
	}
	switch {
	case name == Stdio:
		name = "standard input"
	case strings.HasSuffix(name, " "+Stdio):
		name += " (standard input)"
	}
	return Usage(fmt.Errorf("%s is %s: expected %s", name, d.Describe(), expected))
}
