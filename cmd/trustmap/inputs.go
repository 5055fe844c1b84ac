package main

import (
	"fmt"
	"os"
	"sort"

	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/trustmap"
)

// policyPackages lists the packages a policy names, for messages.
func policyPackages(p *trustmap.Policy) []string {
	var names []string
	if p != nil {
		for n := range p.Packages {
			names = append(names, safetext.Term(n))
		}
	}
	sort.Strings(names)
	return names
}

// checkProvenanceInput refuses, as bad usage, a --provenance file that is
// one of our other documents, and says so when provenance and artifact were
// given the wrong way round. Anything else that looks like provenance goes
// on to verification, which fails closed on it.
func checkProvenanceInput(path string, prov []byte, artifacts []string) error {
	d := doctype.Identify(prov)
	switch d.Kind {
	case doctype.Provenance, doctype.Bundle, doctype.ProvenanceLines, doctype.InTotoEnvelope, doctype.Envelope, doctype.UnknownJSONSchema, doctype.Unknown:
		return nil
	case doctype.NotJSON:
		for _, a := range artifacts {
			if st, err := os.Stat(a); err != nil || st.Size() > trustmap.MaxProvenanceBytes {
				continue
			}
			b, err := limitio.ReadFile(a, trustmap.MaxProvenanceBytes)
			if err != nil {
				continue
			}
			switch doctype.Identify(b).Kind {
			case doctype.Provenance, doctype.Bundle, doctype.ProvenanceLines:
				return cli.Usage(fmt.Errorf("--provenance %s is not provenance (expected a DSSE envelope or Sigstore bundle, found a file that is neither JSON nor PEM), but the artifact %s is: were they swapped? Give --provenance %s %s", path, a, a, path))
			}
		}
		return nil
	}
	return cli.Usage(fmt.Errorf("--provenance %s is %s: expected a DSSE envelope or Sigstore bundle of SLSA provenance (or JSON Lines of them)", path, d.Describe()))
}
