package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// choiceValue is a string flag that accepts one of a fixed set of values;
// shells complete them (see Setup).
type choiceValue struct {
	p       *string
	allowed []string
}

func (c *choiceValue) String() string { return *c.p }
func (c *choiceValue) Type() string   { return "string" }

// Allowed lists the values, for completion and help.
func (c *choiceValue) Allowed() []string { return c.allowed }

func (c *choiceValue) Set(s string) error {
	for _, a := range c.allowed {
		if s == a {
			*c.p = s
			return nil
		}
	}
	return fmt.Errorf("expected %s, got %s", orList(c.allowed), safetext.Quote(s))
}

func orList(v []string) string {
	if len(v) == 1 {
		return v[0]
	}
	return strings.Join(v[:len(v)-1], ", ") + " or " + v[len(v)-1]
}

// ChoiceVar defines a flag that accepts only the allowed values; the first
// is the default.
func ChoiceVar(fs *pflag.FlagSet, p *string, name, usage string, allowed ...string) {
	*p = allowed[0]
	fs.Var(&choiceValue{p: p, allowed: allowed}, name, fmt.Sprintf("%s: %s", usage, orList(allowed)))
}

// FormatVar defines --format with the allowed output formats; the first is
// the default. Every reporting command offers "json".
func FormatVar(fs *pflag.FlagSet, p *string, allowed ...string) {
	ChoiceVar(fs, p, "format", "output format", allowed...)
}

// levelValue is a SLSA Build level flag: 3, L3 and SLSA_BUILD_LEVEL_3 alike.
type levelValue struct {
	p   *questionnaire.Level
	set *bool
}

func (l *levelValue) String() string { return strconv.Itoa(int(*l.p)) }
func (l *levelValue) Type() string   { return "level" }
func (l *levelValue) Set(s string) error {
	v, err := questionnaire.ParseLevel(s)
	if err != nil {
		return fmt.Errorf("expected a level 0-3 such as 3 or L3, got %s", safetext.Quote(s))
	}
	*l.p = v
	if l.set != nil {
		*l.set = true
	}
	return nil
}

// Allowed lists the levels for completion.
func (l *levelValue) Allowed() []string { return []string{"1", "2", "3", "L1", "L2", "L3"} }

// LevelVar defines a level flag with a default.
func LevelVar(fs *pflag.FlagSet, p *questionnaire.Level, name string, def questionnaire.Level, usage string) {
	*p = def
	fs.Var(&levelValue{p: p}, name, usage+" (3 or L3)")
}

// OptionalLevelVar defines a level flag without a default: *set reports
// whether it was given.
func OptionalLevelVar(fs *pflag.FlagSet, p *questionnaire.Level, set *bool, name, usage string) {
	fs.Var(&levelValue{p: p, set: set}, name, usage+" (3 or L3)")
	fs.Lookup(name).DefValue = ""
}

// ParseValidity reads a validity period: "90d", "12h" or a Go duration,
// positive and at most attest.MaxValidity (366 days).
func ParseValidity(s string) (time.Duration, error) { return ParseValidityMax(s, attest.MaxValidity) }

// ParseValidityMax reads a validity period ("90d", "12h" or a Go duration),
// positive and at most max.
func ParseValidityMax(s string, max time.Duration) (time.Duration, error) {
	var v time.Duration
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 100000 {
			return 0, fmt.Errorf("expected a positive number of days like 90d, got %q", s)
		}
		v = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		v, err = time.ParseDuration(s)
		if err != nil || v <= 0 {
			return 0, fmt.Errorf("expected a duration like 90d or 720h, got %q", s)
		}
	}
	if v > max {
		return 0, fmt.Errorf("expected at most %s (%s), got %s: give a shorter --valid-for", days(max), max, s)
	}
	return v, nil
}

// days is "366d" for whole days, else the duration.
func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// validityValue is a --valid-for flag checked when it is parsed.
type validityValue struct {
	p   *time.Duration
	max time.Duration
	raw string
}

func (v *validityValue) String() string { return v.raw }
func (v *validityValue) Type() string   { return "duration" }
func (v *validityValue) Set(s string) error {
	d, err := ParseValidityMax(s, v.max)
	if err != nil {
		return err
	}
	*v.p, v.raw = d, s
	return nil
}

// ValidityVar defines a validity flag ("90d") with a default, at most
// attest.MaxValidity.
func ValidityVar(fs *pflag.FlagSet, p *time.Duration, name, def, usage string) {
	ValidityMaxVar(fs, p, name, def, attest.MaxValidity, usage)
}

// ValidityMaxVar defines a validity flag ("30d", "720h") checked against max
// when it is parsed. An empty def leaves *p zero: the library's default.
func ValidityMaxVar(fs *pflag.FlagSet, p *time.Duration, name, def string, max time.Duration, usage string) {
	v := &validityValue{p: p, max: max}
	if def != "" {
		if err := v.Set(def); err != nil {
			panic(err)
		}
	}
	fs.Var(v, name, usage)
}

// CheckThreshold refuses a signature threshold that no set of the given keys
// can meet (or that counts nothing): "--policy-threshold: expected 1 to 2
// (the number of --policy-key given), got 3".
func CheckThreshold(flag string, n int, keysFlag string, keys int) error {
	if n < 1 || n > keys {
		return Usage(fmt.Errorf("%s: expected 1 to %d (the number of %s given), got %d: give more %s or a lower threshold", flag, keys, keysFlag, n, keysFlag))
	}
	return nil
}
