package cli

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hallmark-build/hallmark/internal/safetext"
)

// fileFlags are the flags that name files, completed as file names by the
// shells. One list for both commands, so a flag means the same everywhere.
var fileFlags = map[string][]string{
	"answers": {"json"}, "review": {"json"}, "attestation": {"json"},
	"key": nil, "roots-key": {"pub"}, "policy-key": {"pub"}, "vsa-key": {"key"}, "sign-key": {"key"},
	"roots": {"json"}, "policy": {"json"}, "certifiers": {"json"}, "revoked": {"json"},
	"trusted-root": {"json"}, "tofu-store": {"json"}, "batch": {"jsonl", "json"},
	"provenance": {"jsonl", "json"}, "output": nil, "vsa-out": {"json"},
	"approval": {"json"}, "approver-key": {"pub"}, "trust-state": {"json"}, "tokens": nil,
	"vsa": nil, "vsa-dir": nil, "verifiers": {"json"}, "dependency-provenance": {"jsonl", "json"},
	"registry-ca": {"pem", "crt"}, "client-ca": {"pem", "crt"}, "tls-cert": {"pem", "crt"}, "tls-key": {"pem", "key"},
}

// NotFileFlags are the string flags that take something other than a file
// name (a test checks that every string flag is classified).
var NotFileFlags = []string{"assessor-id", "at", "build-type", "builder-id", "cap", "deny", "listen",
	"not-before", "package", "reviewer", "source-ref", "source-uri", "store", "verifier-id", "waive",
	"resource-uri", "level", "digest", "image-registry", "certificate-identity", "certificate-identity-regexp", "certificate-oidc-issuer"}

// IsFileFlag reports whether the flag name is completed as a file name.
func IsFileFlag(name string) bool {
	_, ok := fileFlags[name]
	return ok
}

// Setup finishes a command tree built by newRoot, after every subcommand has
// been added: the streams, `version` and --version, `completion` with value
// completion for choice flags (--format, --level...) and file-name completion
// for file flags, and examples on the commands cobra provides.
func Setup(root *cobra.Command, e *Env) {
	program := root.Name()
	root.SetIn(e.Stdin)
	root.SetOut(e.Stdout)
	root.SetErr(e.Stderr)
	root.Version = Version(program).String()
	root.SetVersionTemplate("{{.Version}}\n")
	root.AddCommand(newVersionCmd(e, program))
	root.SetFlagErrorFunc(flagError)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = fmt.Sprintf("  %[1]s help\n  %[1]s help %[2]s", program, firstCommand(root))
		case "completion":
			c.Long += completionHelp(program)
			c.Example = fmt.Sprintf("  %[1]s completion bash > ~/.local/share/bash-completion/completions/%[1]s\n  %[1]s completion zsh > \"${fpath[1]}/_%[1]s\"\n  %[1]s completion fish > ~/.config/fish/completions/%[1]s.fish", program)
			for _, sh := range c.Commands() {
				sh.Example = fmt.Sprintf("  %s completion %s", program, sh.Name())
			}
		}
	}
	walk(root, registerCompletions)
	walk(root, refuseUnknownSubcommands)
	walk(root, explainRequiredFlags)
}

// explainRequiredFlags replaces cobra's `required flag(s) "key" not set`
// with what the flag is for and an example (exit 2), checked before cobra
// would check it.
func explainRequiredFlags(c *cobra.Command) {
	var required []*pflag.Flag
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if v, ok := f.Annotations[cobra.BashCompOneRequiredFlag]; ok && len(v) > 0 && v[0] == "true" {
			required = append(required, f)
		}
	})
	if len(required) == 0 || c.PreRunE != nil || c.PreRun != nil {
		return
	}
	c.PreRunE = func(cmd *cobra.Command, args []string) error {
		var missing []string
		var usage string
		for _, f := range required {
			if !f.Changed {
				missing = append(missing, "--"+f.Name)
				usage = f.Usage
			}
		}
		if len(missing) == 0 {
			return nil
		}
		msg := fmt.Sprintf("%s needs %s", cmd.CommandPath(), andList(missing))
		if len(missing) == 1 {
			msg += ": " + usage
		}
		if ex := FirstExample(cmd); ex != "" {
			msg += "; example: " + ex
		}
		return Usage(fmt.Errorf("%s (see %s --help)", msg, cmd.CommandPath()))
	}
}

// andList is "a", "a and b", "a, b and c".
func andList(v []string) string {
	if len(v) == 1 {
		return v[0]
	}
	return strings.Join(v[:len(v)-1], ", ") + " and " + v[len(v)-1]
}

// FirstExample is the command's first example that runs the command itself
// (not one of its subcommands), continuation lines joined.
func FirstExample(cmd *cobra.Command) string {
	var examples []string
	var cur string
	for _, l := range strings.Split(cmd.Example, "\n") {
		l = strings.TrimSpace(l)
		if s, ok := strings.CutSuffix(l, "\\"); ok {
			cur += s
			continue
		}
		if l = cur + l; l != "" {
			examples = append(examples, strings.Join(strings.Fields(l), " "))
		}
		cur = ""
	}
	path := cmd.CommandPath() + " "
	for _, ex := range examples {
		if !strings.HasPrefix(ex, path) {
			continue
		}
		next, _, _ := strings.Cut(strings.TrimPrefix(ex, path), " ")
		if sub, _, err := cmd.Find([]string{next}); err == nil && sub != cmd {
			continue
		}
		return ex
	}
	if len(examples) > 0 {
		return examples[0]
	}
	return ""
}

// HelpOnly is the annotation of a command that only groups subcommands:
// run alone it shows its help.
const HelpOnly = "hallmark/help-only"

// refuseUnknownSubcommands makes a command that only groups subcommands
// ("trustmap expectations") refuse an unknown one (exit 2, naming those that
// exist) instead of printing its help and exiting 0; alone, it shows its help.
func refuseUnknownSubcommands(c *cobra.Command) {
	if c.Runnable() || !c.HasSubCommands() || !c.HasParent() {
		return
	}
	if c.Annotations == nil {
		c.Annotations = map[string]string{}
	}
	c.Annotations[HelpOnly] = "true"
	c.Args = NoArgs
	c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
}

func firstCommand(root *cobra.Command) string {
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() {
			return c.Name()
		}
	}
	return ""
}

func completionHelp(program string) string {
	return strings.ReplaceAll(`
Install (then open a new shell):

  bash:  PROG completion bash > ~/.local/share/bash-completion/completions/PROG
  zsh:   PROG completion zsh > "${fpath[1]}/_PROG"
  fish:  PROG completion fish > ~/.config/fish/completions/PROG.fish

Flags with a fixed set of values (--format, --algorithm, levels) complete
those values; flags that name files complete file names.
`, "PROG", program)
}

// flagError rewrites pflag's "invalid argument "x" for "--format" flag: ..."
// as "--format: expected text or json, got "x"" (exit 2).
func flagError(c *cobra.Command, err error) error {
	var iv *pflag.InvalidValueError
	if errors.As(err, &iv) {
		cause := errors.Unwrap(iv)
		var num *strconv.NumError
		if errors.As(cause, &num) {
			cause = fmt.Errorf("expected a whole number, got %s", safetext.Quote(iv.GetValue()))
		}
		return Usage(fmt.Errorf("--%s: %v", iv.GetFlag().Name, cause))
	}
	return Usage(fmt.Errorf("%w (see %s --help)", err, c.CommandPath()))
}

// walk calls f on c and every command below it.
func walk(c *cobra.Command, f func(*cobra.Command)) {
	f(c)
	for _, s := range c.Commands() {
		walk(s, f)
	}
}

type allowedValues interface{ Allowed() []string }

func registerCompletions(c *cobra.Command) {
	c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
		if c.Flags().Lookup(fl.Name) != fl {
			return
		}
		if a, ok := fl.Value.(allowedValues); ok {
			_ = c.RegisterFlagCompletionFunc(fl.Name, cobra.FixedCompletions(a.Allowed(), cobra.ShellCompDirectiveNoFileComp))
			return
		}
		if ext, ok := fileFlags[fl.Name]; ok {
			_ = c.MarkFlagFilename(fl.Name, ext...)
		}
	})
}

// EveryCommand returns every command of the tree, for tests that check a
// convention on all of them.
func EveryCommand(root *cobra.Command) []*cobra.Command {
	var all []*cobra.Command
	walk(root, func(c *cobra.Command) { all = append(all, c) })
	return all
}
