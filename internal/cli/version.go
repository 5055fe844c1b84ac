package cli

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// VersionInfo is what `version` prints: the module version and the VCS
// revision the binary was built from, as recorded in its build info.
type VersionInfo struct {
	Program   string `json:"program"`
	Module    string `json:"module"`
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"`
	Time      string `json:"time,omitempty"`
	Modified  bool   `json:"modified,omitempty"`
	GoVersion string `json:"goVersion"`
}

// versionFrom reads bi (nil when the binary has no build info).
func versionFrom(program string, bi *debug.BuildInfo) VersionInfo {
	v := VersionInfo{Program: program, Version: "(unknown)", GoVersion: "(unknown)"}
	if bi == nil {
		return v
	}
	v.Module, v.GoVersion = bi.Main.Path, bi.GoVersion
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// Version returns the running binary's version information.
func Version(program string) VersionInfo {
	bi, _ := debug.ReadBuildInfo()
	return versionFrom(program, bi)
}

// String is the one-line form: "hallmark v1.2.0 (revision 1a2b3c4d5e6f, 2026-11-01T12:00:00Z)".
func (v VersionInfo) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", v.Program, v.Version)
	rev := v.Revision
	if rev == "" {
		rev = "unknown: built without VCS information"
	} else if len(rev) > 12 {
		rev = rev[:12]
	}
	fmt.Fprintf(&b, " (revision %s", rev)
	if v.Modified {
		b.WriteString(", modified")
	}
	if v.Time != "" {
		b.WriteString(", " + v.Time)
	}
	fmt.Fprintf(&b, ", %s)", v.GoVersion)
	return b.String()
}

func newVersionCmd(e *Env, program string) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version and the VCS revision this binary was built from",
		Long: `version prints the module version and the VCS revision (commit) recorded in
the binary's build information, whether the tree had local modifications,
and the Go version. --version on the command itself prints the same line.`,
		Example: fmt.Sprintf("  %[1]s version\n  %[1]s version --format json\n  %[1]s --version", program),
		Args:    NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v := Version(program)
			if format == "json" {
				return WriteJSON(e.Stdout, v)
			}
			fmt.Fprintln(e.Stdout, v)
			return nil
		},
	}
	FormatVar(cmd.Flags(), &format, "text", "json")
	return cmd
}

// WriteJSON writes v as indented JSON with a final newline, without
// escaping <, > and & (so URLs read as they are).
func WriteJSON(w interface{ Write([]byte) (int, error) }, v any) error {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write([]byte(b.String()))
	return err
}
