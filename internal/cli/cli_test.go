package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
)

// typed returns a ReadPassword that types answers in order and records the
// prompts.
func typed(prompts *[]string, answers ...string) func(string) ([]byte, error) {
	return func(p string) ([]byte, error) {
		*prompts = append(*prompts, p)
		if len(answers) == 0 {
			return nil, ErrNoPassword
		}
		a := answers[0]
		answers = answers[1:]
		return []byte(a), nil
	}
}

func TestPassFunc(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	cases := []struct {
		name    string
		vars    map[string]string
		typed   []string
		confirm bool
		want    string
		wantErr error
		prompts int
	}{
		{"hallmark variable", map[string]string{PasswordEnv: "h", CosignPasswordEnv: "c"}, nil, true, "h", nil, 0},
		{"cosign variable when hallmark's is unset", map[string]string{CosignPasswordEnv: "c"}, nil, true, "c", nil, 0},
		{"typed once to decrypt", nil, []string{"pw"}, false, "pw", nil, 1},
		{"empty refused at the first prompt", nil, []string{"", "pw"}, false, "pw", nil, 2},
		{"empty three times", nil, []string{"", "", ""}, false, "", attest.ErrEmptyPassword, 3},
		{"confirmed", nil, []string{"pw", "pw"}, true, "pw", nil, 2},
		{"mismatch asks again", nil, []string{"a", "b", "pw", "pw"}, true, "pw", nil, 4},
		{"mismatch three times", nil, []string{"a", "b", "a", "b", "a", "b"}, true, "", ErrPasswordsDiffer, 6},
		{"empty confirmation is a mismatch", nil, []string{"pw", "", "pw", "pw"}, true, "pw", nil, 4},
		{"no terminal", nil, nil, false, "", ErrNoPassword, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var prompts []string
			pw, err := PassFunc(env(tc.vars), typed(&prompts, tc.typed...), "op.key")(tc.confirm)
			if !errors.Is(err, tc.wantErr) || string(pw) != tc.want {
				t.Fatalf("got %q, %v; want %q, %v", pw, err, tc.want, tc.wantErr)
			}
			if len(prompts) != tc.prompts {
				t.Fatalf("%d prompts, want %d: %q", len(prompts), tc.prompts, prompts)
			}
			for _, p := range prompts {
				if !strings.Contains(p, "op.key") {
					t.Errorf("prompt %q does not name the key", p)
				}
			}
		})
	}
}

func TestLoadPrivateKeyRetries(t *testing.T) {
	dir := t.TempDir()
	k, err := attest.GenerateKey(attest.Ed25519, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := k.MarshalEncrypted([]byte("right"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "k.key")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var prompts []string
	e := &Env{Getenv: func(string) string { return "" }, ReadPassword: typed(&prompts, "wrong", "right")}
	if _, err := e.LoadPrivateKey(path); err != nil {
		t.Fatal(err)
	}
	if len(prompts) != 2 || !strings.Contains(prompts[1], "Wrong password; try again.") {
		t.Fatalf("prompts %q", prompts)
	}
	prompts = nil
	e.ReadPassword = typed(&prompts, "a", "b", "c", "right")
	if _, err := e.LoadPrivateKey(path); !errors.Is(err, attest.ErrWrongPassword) || len(prompts) != PasswordAttempts {
		t.Fatalf("err %v after %d prompts", err, len(prompts))
	}
	// A wrong password from the environment is not retried.
	prompts = nil
	e.Getenv = func(k string) string { return map[string]string{CosignPasswordEnv: "nope"}[k] }
	if _, err := e.LoadPrivateKey(path); !errors.Is(err, attest.ErrWrongPassword) || len(prompts) != 0 {
		t.Fatalf("err %v after %d prompts", err, len(prompts))
	}
}

func TestVersionFrom(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/hallmark-build/hallmark", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-11-01T12:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	got := versionFrom("hallmark", bi).String()
	want := "hallmark v1.2.0 (revision 0123456789ab, modified, 2026-11-01T12:00:00Z, go1.26.8)"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := versionFrom("trustmap", nil).String(); !strings.Contains(got, "revision unknown") {
		t.Errorf("no build info: %q", got)
	}
}

func TestOutputCheck(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "a.json")
	os.WriteFile(in, []byte("{}"), 0o644)
	link := filepath.Join(dir, "link.json")
	os.Symlink(in, link)
	cases := []struct {
		o    Output
		want error
	}{
		{Output{Path: filepath.Join(dir, "new.json"), Inputs: []string{in}}, nil},
		{Output{Path: in, Inputs: []string{in}, Force: true}, ErrOutputIsInput},
		{Output{Path: link, Inputs: []string{in}, Force: true}, ErrOutputIsInput},
		{Output{Path: in}, ErrOverwrite},
		{Output{Path: in, Force: true}, nil},
		{Output{Path: dir, Force: true}, ErrNotAFile},
		{Output{Path: "-", Inputs: []string{"-"}}, nil},
	}
	for _, tc := range cases {
		if err := tc.o.Check(); !errors.Is(err, tc.want) {
			t.Errorf("%+v: %v, want %v", tc.o, err, tc.want)
		}
	}
	// Write to standard output, and no silent overwrite.
	var out bytes.Buffer
	e := &Env{Stdout: &out}
	if err := e.Write(Output{Path: "-"}, []byte("x")); err != nil || out.String() != "x" {
		t.Fatalf("%v %q", err, out.String())
	}
	if err := e.Write(Output{Path: in}, []byte("x")); !errors.Is(err, ErrOverwrite) {
		t.Fatal(err)
	}
}

func TestReadInput(t *testing.T) {
	dir := t.TempDir()
	e := &Env{Stdin: strings.NewReader("hello")}
	if _, err := e.ReadInput(dir, 10); !errors.Is(err, ErrNotAFile) || exitCode(err) != ExitUsage {
		t.Errorf("directory: %v", err)
	}
	b, err := e.ReadInput("-", 10)
	if err != nil || string(b) != "hello" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := e.ReadInput("-", 10); err == nil {
		t.Error("standard input read twice")
	}
	e = &Env{Stdin: strings.NewReader("too long for the cap")}
	if _, err := e.ReadInput("-", 4); err == nil {
		t.Error("no size cap on standard input")
	}
}

func exitCode(err error) int {
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return -1
}

func TestParseValidity(t *testing.T) {
	for in, ok := range map[string]bool{"90d": true, "366d": true, "367d": false, "720h": true, "0d": false, "-1d": false, "soon": false, "9000h": false} {
		if _, err := ParseValidity(in); (err == nil) != ok {
			t.Errorf("%s: %v", in, err)
		}
	}
}

func TestParseValidityMax(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  time.Duration
		want time.Duration
		err  string
	}{
		{"30d", 366 * 24 * time.Hour, 30 * 24 * time.Hour, ""},
		{"720h", 366 * 24 * time.Hour, 720 * time.Hour, ""},
		{"91d", 90 * 24 * time.Hour, 0, "expected at most 90d (2160h0m0s), got 91d"},
		{"99999999999d", 90 * 24 * time.Hour, 0, "expected a positive number of days"},
		{"90m", time.Hour, 90 * time.Minute, "expected at most 1h0m0s (1h0m0s), got 90m"},
	} {
		got, err := ParseValidityMax(tc.in, tc.max)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%s: %v %v", tc.in, got, err)
		}
	}
}

func TestFirstExample(t *testing.T) {
	root := &cobra.Command{Use: "tm"}
	serve := &cobra.Command{Use: "serve", Run: func(*cobra.Command, []string) {},
		Example: "  tm serve new-token ci --tokens t\n  tm serve --roots r.json \\\n      --store sqlite:x"}
	serve.AddCommand(&cobra.Command{Use: "new-token", Run: func(*cobra.Command, []string) {}})
	root.AddCommand(serve)
	if got, want := FirstExample(serve), "tm serve --roots r.json --store sqlite:x"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
