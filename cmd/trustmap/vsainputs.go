package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/oci"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// maxVSAFiles bounds the documents read through --vsa and
// --dependency-provenance (directories included).
const maxVSAFiles = 1000

// readDocuments reads the files (or every regular file of the
// directories) given to flag, each size-capped; a file that is not regular
// is bad usage.
func readDocuments(paths []string, flag string) ([]trustmap.VSAInput, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, cli.Usage(fmt.Errorf("%s: %w", flag, err))
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		ents, err := os.ReadDir(p)
		if err != nil {
			return nil, cli.Usage(fmt.Errorf("%s: %w", flag, err))
		}
		var names []string
		for _, e := range ents {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), ".") {
				names = append(names, filepath.Join(p, e.Name()))
			}
		}
		sort.Strings(names)
		files = append(files, names...)
	}
	if len(files) > maxVSAFiles {
		return nil, cli.Usage(fmt.Errorf("%s: expected at most %d documents, got %d", flag, maxVSAFiles, len(files)))
	}
	out := make([]trustmap.VSAInput, 0, len(files))
	for _, f := range files {
		if err := cli.CheckFile(f); err != nil {
			return nil, err
		}
		b, err := limitio.ReadFile(f, trustmap.MaxVSABytes)
		if err != nil {
			return nil, cli.Usage(fmt.Errorf("%s: %w", flag, err))
		}
		out = append(out, trustmap.VSAInput{Name: f, Raw: b})
	}
	return out, nil
}

// expectationsRef is the VSA's policy: what the provenance was checked
// against, as a URI, and the content whose sha256 is its digest.
func expectationsRef(f verifyFlags, v *verifier) (string, []byte) {
	switch {
	case f.policy != "":
		return fileURI(f.policy), v.policyData
	case v.opts.Expect != nil:
		b, _ := json.Marshal(v.opts.Expect)
		return trustmap.InlineExpectationsURI, b
	case f.tofu != "":
		if strings.Contains(f.tofu, ":") {
			return store.Redact(f.tofu), nil
		}
		return fileURI(f.tofu), nil
	}
	return trustmap.NoExpectationsURI, nil
}

// inputAttestations are the documents the verdict relied on, each with the
// sha256 of the file at its URI: the provenance, the roots (which hold the
// capability attestations by digest), the VSAs and dependency provenance.
func inputAttestations(f verifyFlags, v *verifier, res *trustmap.Result, prov []byte, img *oci.Image) []trustmap.VSARef {
	var out []trustmap.VSARef
	switch {
	case img != nil && f.provenance == "":
		for _, d := range res.InputDigests {
			out = append(out, trustmap.VSARef{URI: img.Pinned, Digest: map[string]string{"sha256": d}})
		}
	case f.provenance == "-":
		out = append(out, trustmap.VSARef{URI: "urn:hallmark:stdin", Digest: map[string]string{"sha256": sum(prov)}})
	default:
		out = append(out, trustmap.VSARef{URI: fileURI(f.provenance), Digest: map[string]string{"sha256": sum(prov)}})
	}
	out = append(out, trustmap.VSARef{URI: fileURI(f.roots), Digest: map[string]string{"sha256": sum(v.rootsData)}})
	for _, list := range [][]trustmap.UsedVSA{res.VSAs, res.DependencyProvenance} {
		for _, u := range list {
			out = append(out, trustmap.VSARef{URI: fileURI(u.Name), Digest: map[string]string{"sha256": u.FileDigest}})
		}
	}
	return out
}

func fileURI(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		abs = p
	}
	return trustmap.FileURI(abs)
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// buildVersion is trustmap's version for verifier.version: the module
// version and, when recorded, the VCS revision.
func buildVersion() string {
	v := cli.Version("trustmap")
	s := v.Version
	if v.Revision != "" {
		s += "+" + v.Revision[:min(12, len(v.Revision))]
	}
	return s
}
