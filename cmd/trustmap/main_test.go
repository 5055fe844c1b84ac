package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/clitest"
	"github.com/hallmark-build/hallmark/internal/doctype"
	"github.com/hallmark-build/hallmark/trustmap"
)

var testNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) { clitest.Main(m, "trustmap", testNow, newRoot) }

func TestScripts(t *testing.T) { clitest.Run(t, map[string]string{"V": "testdata/verify"}) }

// The verifier's binary links no TUI code, and library packages depend on
// neither the commands nor the terminal libraries.
func TestDependencies(t *testing.T) {
	deps := func(pkg string) []string {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	forbidden := func(pkg string, bad ...string) {
		for _, d := range deps(pkg) {
			for _, b := range bad {
				if strings.HasPrefix(d, b) {
					t.Errorf("%s depends on %s", pkg, d)
				}
			}
		}
	}
	const mod = "github.com/hallmark-build/hallmark/"
	forbidden(mod+"cmd/trustmap", "github.com/charmbracelet/", mod+"internal/tui")
	for _, lib := range []string{"questionnaire", "assess", "attest", "trustmap"} {
		forbidden(mod+lib, "github.com/charmbracelet/", mod+"cmd/", mod+"internal/tui", mod+"internal/cli", "github.com/spf13/cobra")
	}
	forbidden(mod+"questionnaire", mod+"assess", mod+"attest", mod+"trustmap")
	// The verification core is pure: registry access is a subpackage
	// (sigstore-go brings in only the reference parser).
	forbidden(mod+"trustmap", mod+"trustmap/oci", "github.com/google/go-containerregistry/pkg/v1")
	// sigstore-go is for verifiers only.
	forbidden(mod+"cmd/hallmark", "github.com/sigstore/sigstore-go", mod+"trustmap")
}

func TestProgressBar(t *testing.T) {
	for _, tc := range []struct {
		done, total int
		want        string
	}{{0, 10, "[----------]"}, {5, 10, "[#####-----]"}, {10, 10, "[##########]"}, {3, 0, "[##########]"}} {
		if got := progressBar(tc.done, tc.total, 10); got != tc.want {
			t.Errorf("progressBar(%d, %d) = %q, want %q", tc.done, tc.total, got, tc.want)
		}
	}
}

// doctype repeats trustmap's format identifiers (the hallmark binary must
// not link trustmap); they must stay equal.
func TestDoctypeIdentifiers(t *testing.T) {
	for _, c := range [][2]string{
		{doctype.RootsSchema, trustmap.RootsSchema}, {doctype.RootsPayloadType, trustmap.RootsPayloadType},
		{doctype.PolicySchema, trustmap.PolicySchema}, {doctype.PolicyPayloadType, trustmap.PolicyPayloadType},
		{doctype.CertifiersSchema, trustmap.CertifiersSchema}, {doctype.RevocationsSchema, trustmap.RevocationsSchema},
		{doctype.TOFUSchema, trustmap.TOFUSchema},
		{doctype.RootsSchemaV1, trustmap.RootsSchemaV1}, {doctype.PolicySchemaV1, trustmap.PolicySchemaV1}, {doctype.TOFUSchemaV1, trustmap.TOFUSchemaV1}, {doctype.VSAPredicateType, trustmap.VSAPredicateType},
		{doctype.ProvenanceV1, trustmap.ProvenanceV1}, {doctype.ProvenanceV02, trustmap.ProvenanceV02},
	} {
		if c[0] != c[1] {
			t.Errorf("doctype has %q, trustmap %q", c[0], c[1])
		}
	}
}

// Every command's help shows an example.
func TestEveryCommandHasAnExample(t *testing.T) {
	for _, c := range cli.EveryCommand(newRoot(&env{})) {
		if c.Example == "" {
			t.Errorf("%s has no example", c.CommandPath())
		}
	}
}
