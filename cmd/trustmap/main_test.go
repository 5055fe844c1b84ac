package main

import (
	"bytes"
	"github.com/spf13/pflag"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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
		{doctype.TOFUSchema, trustmap.TOFUSchema}, {doctype.ApprovalSchema, trustmap.ApprovalSchema}, {doctype.ApprovalPayloadType, trustmap.ApprovalPayloadType},
		{doctype.RootsSchemaV1, trustmap.RootsSchemaV1}, {doctype.PolicySchemaV1, trustmap.PolicySchemaV1}, {doctype.TOFUSchemaV1, trustmap.TOFUSchemaV1}, {doctype.VSAPredicateType, trustmap.VSAPredicateType},
		{doctype.ProvenanceV1, trustmap.ProvenanceV1}, {doctype.ProvenanceV02, trustmap.ProvenanceV02},
		{doctype.RootsSchemaV3, trustmap.RootsSchemaV3}, {doctype.PolicySchemaV3, trustmap.PolicySchemaV3}, {doctype.SerialStateSchema, trustmap.SerialStateSchema},
		{doctype.VerifierTrustSchema, trustmap.VerifierTrustSchema}, {doctype.VerifierTrustPayloadType, trustmap.VerifierTrustPayloadType},
	} {
		if c[0] != c[1] {
			t.Errorf("doctype has %q, trustmap %q", c[0], c[1])
		}
	}
}

// Every document format trustmap defines (a hallmark.build schema or a
// hallmark payload type) is one inspect recognises and wrong-file messages
// name: a new format cannot be added without teaching doctype.
func TestDoctypeKnowsEveryFormat(t *testing.T) {
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, "../../trustmap", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range pkgs {
		ast.Inspect(p, func(node ast.Node) bool {
			lit, ok := node.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			v, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			var d doctype.Doc
			switch {
			case strings.HasPrefix(v, "https://hallmark.build/") && strings.Count(v, "/") == 4 && !strings.Contains(v, "builder-capability"):
				d = doctype.Identify([]byte(`{"schema":` + strconv.Quote(v) + `}`))
				if d.Kind == doctype.UnknownJSONSchema {
					t.Errorf("doctype does not know the schema %s (trustmap %s)", v, fset.Position(lit.Pos()))
				}
			case strings.HasPrefix(v, "application/vnd.hallmark."):
				d = doctype.Identify([]byte(`{"payloadType":` + strconv.Quote(v) + `,"payload":"","signatures":[]}`))
				if d.Kind == doctype.Envelope {
					t.Errorf("doctype does not know the payload type %s (trustmap %s)", v, fset.Position(lit.Pos()))
				}
			default:
				return true
			}
			n++
			return true
		})
	}
	if n < 10 {
		t.Fatalf("found only %d format identifiers in trustmap: is the scan broken?", n)
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

func TestExitCodes(t *testing.T) {
	const V = "../../testdata/verify/"
	base := []string{"verify", "--roots", V + "roots.json", "--policy", V + "policy.json", "--package", "example-app", "--at", "2026-12-01T00:00:00Z"}
	with := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	cases := []struct {
		name string
		args []string
		want int
	}{
		{"pass", with("--provenance", V+"cases/pass-policy-l3.intoto.jsonl", V+"app-1.2.3.tar.gz"), cli.ExitOK},
		{"fail", with("--provenance", V+"cases/fork-source.intoto.jsonl", V+"app-1.2.3.tar.gz"), cli.ExitFailed},
		{"artifact is a directory", with("--provenance", V+"cases/pass-policy-l3.intoto.jsonl", V+"cases"), cli.ExitUsage},
		{"provenance is a directory", with("--provenance", V+"cases", V+"app-1.2.3.tar.gz"), cli.ExitUsage},
		{"swapped", with("--provenance", V+"app-1.2.3.tar.gz", V+"cases/pass-policy-l3.intoto.jsonl"), cli.ExitUsage},
		{"policy without package", []string{"verify", "--roots", V + "roots.json", "--policy", V + "policy.json", "--provenance", V + "cases/pass-policy-l3.intoto.jsonl", V + "app-1.2.3.tar.gz"}, cli.ExitUsage},
		{"threshold above keys", with("--policy-key", "../../testdata/keys/operator.pub", "--policy-threshold", "2", "--provenance", V+"cases/pass-policy-l3.intoto.jsonl", V+"app-1.2.3.tar.gz"), cli.ExitUsage},
		{"threshold not a number", with("--policy-threshold", "x", "--provenance", V+"cases/pass-policy-l3.intoto.jsonl", V+"app-1.2.3.tar.gz"), cli.ExitUsage},
		{"batch with --format text", []string{"verify", "--roots", V + "roots.json", "--batch", "m.jsonl", "--format", "text"}, cli.ExitUsage},
		{"inspect a directory", []string{"inspect", V}, cli.ExitUsage},
		{"unknown subcommand", []string{"expectations", "aprove"}, cli.ExitUsage},
		{"no argument", []string{"sign-policy"}, cli.ExitUsage},
		{"policy given as roots", []string{"verify", "--roots", V + "policy.json", "--source-uri", "x", "--provenance", V + "cases/pass-policy-l3.intoto.jsonl", V + "app-1.2.3.tar.gz"}, cli.ExitUsage},
		{"roots given as policy", []string{"verify", "--roots", V + "roots.json", "--policy", V + "roots.json", "--package", "example-app", "--provenance", V + "cases/pass-policy-l3.intoto.jsonl", V + "app-1.2.3.tar.gz"}, cli.ExitUsage},
		{"answers given to compile", []string{"compile", "--certifiers", V + "certifiers.json", V + "hosted-vm.answers.json", "-o", "-"}, cli.ExitUsage},
		{"roots given as approval", []string{"expectations", "approve", "--tofu-store", "t.json", "--package", "a", "--approval", V + "roots.json", "--approver-key", "../../testdata/keys/operator.pub"}, cli.ExitUsage},
		{"compile valid-for over the maximum", []string{"compile", "--valid-for", "367d", "--certifiers", V + "certifiers.json", V + "hosted-vm.capability.json", "-o", "-"}, cli.ExitUsage},
		{"provenance given as artifact", with("--provenance", V+"cases/pass-policy-l3.intoto.jsonl", V+"cases/fork-source.intoto.jsonl"), cli.ExitFailed},
		{"compile format", []string{"compile", "--format", "yaml", "--certifiers", V + "certifiers.json", V + "hosted-vm.capability.json", "-o", "-"}, cli.ExitUsage},
	}
	for _, tc := range cases {
		var out, errb bytes.Buffer
		e := &env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" },
			Now: func() time.Time { return testNow }, ReadPassword: func(string) ([]byte, error) { return nil, cli.ErrNoPassword }, Workers: 1}
		if code := cli.Execute(newRoot(e), tc.args); code != tc.want {
			t.Errorf("%s: exit %d, want %d (stderr %q)", tc.name, code, tc.want, errb.String())
		}
	}
}

// Repeatable flags repeat the same way everywhere: never split on commas.
func TestNoCommaSplitFlags(t *testing.T) {
	for _, c := range cli.EveryCommand(newRoot(&env{})) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			if strings.HasSuffix(f.Value.Type(), "Slice") {
				t.Errorf("%s --%s splits on commas (%s): use a repeatable StringArray", c.CommandPath(), f.Name, f.Value.Type())
			}
		})
	}
}

// The root help names every command.
func TestRootHelpListsEveryCommand(t *testing.T) {
	root := newRoot(&env{})
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" || c.Name() == "version" {
			continue
		}
		if !strings.Contains(root.Long, "trustmap "+c.Name()+" ") {
			t.Errorf("trustmap --help does not list %s", c.Name())
		}
	}
}

// The README's command table names every trustmap command.
func TestREADMEListsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cli.EveryCommand(newRoot(&env{})) {
		if c.Hidden || !c.Runnable() || c.Annotations[cli.HelpOnly] != "" || c.Name() == "help" || strings.HasPrefix(c.CommandPath(), "trustmap completion") || c.Name() == "version" || c == c.Root() {
			continue
		}
		if !bytes.Contains(readme, []byte("| `"+c.CommandPath())) {
			t.Errorf("README's command table does not list %s", c.CommandPath())
		}
	}
}

// The README's command table lists only commands that exist, with the
// --format values they accept.
func TestREADMEFormats(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	clitest.CheckREADMETable(t, newRoot(&env{}), readme)
}

// Help text names only commands that exist.
func TestHelpMentionsExistingCommands(t *testing.T) {
	clitest.CheckHelpMentions(t, newRoot(&env{}))
}

// Every flag that takes a string is classified: file flags complete file
// names, choice flags their values, the others are listed as not files.
func TestFileFlagsComplete(t *testing.T) { clitest.CheckFileFlags(t, newRoot(&env{})) }

// A wrong number of arguments is explained, with an example (exit 2).
func TestArgsErrors(t *testing.T) { clitest.CheckArgsErrors(t, newRoot(&env{})) }

// `go test ./...` needs nothing but Go: every test that needs tmux, a
// browser, a registry server, PostgreSQL or bash carries the e2e build tag,
// and none of them skips when its tool is missing (it fails, saying so).
func TestExternalToolsNeedE2ETag(t *testing.T) {
	tools := regexp.MustCompile(`"tmux"|"chromium"|"docker-registry"|pgtest\.Start|StartDistribution\(|LookPath\("bash"\)`)
	err := filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if !strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if !tools.Match(b) || p == "../../cmd/trustmap/main_test.go" {
			return nil
		}
		if !bytes.HasPrefix(b, []byte("//go:build e2e\n")) {
			t.Errorf("%s needs an external tool (%s) but has no //go:build e2e line", p, tools.Find(b))
		}
		if bytes.Contains(b, []byte("t.Skip")) {
			t.Errorf("%s skips: an e2e test fails when its tool is missing", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
