package trustmap

import (
	"fmt"
	"path"
	"strings"

	"github.com/hallmark-build/hallmark/internal/safetext"
)

// Expectations are inline expectations for one verification, the ones users
// of slsa-verifier (--source-uri, --source-tag/--source-branch, --builder-id)
// and gh attestation verify know. They are the alternative to a policy: a
// source repository is required, the rest narrows further.
type Expectations struct {
	// SourceURI is the source repository the build must come from
	// ("https://github.com/org/repo" or "github.com/org/repo"; a "git+"
	// prefix and a ".git" suffix are ignored). Required.
	SourceURI string
	// SourceRef is a glob (path.Match: '*' does not cross '/') on the
	// source ref, for example "refs/tags/v*". Optional.
	SourceRef string
	// BuilderIDs and BuildTypes, when given, list the allowed values.
	BuilderIDs []string
	BuildTypes []string
}

// Validate checks that the expectations name a source and that the ref
// pattern is well formed.
func (e *Expectations) Validate() error {
	if e.SourceURI == "" {
		return fmt.Errorf("%w: inline expectations need a source repository (--source-uri)", ErrNoExpectations)
	}
	if e.SourceRef != "" {
		if _, err := path.Match(e.SourceRef, ""); err != nil {
			return fmt.Errorf("source ref pattern %q: %v", e.SourceRef, err)
		}
	}
	return nil
}

// describe renders the expectations for results.
func (e *Expectations) describe() string {
	var b strings.Builder
	b.Grow(len("inline: source , ref ") + len(e.SourceURI) + len(e.SourceRef))
	b.WriteString("inline: source ")
	b.WriteString(e.SourceURI)
	if e.SourceRef != "" {
		b.WriteString(", ref ")
		b.WriteString(e.SourceRef)
	}
	if len(e.BuilderIDs) > 0 {
		b.WriteString(", builder ")
		b.WriteString(strings.Join(e.BuilderIDs, " | "))
	}
	if len(e.BuildTypes) > 0 {
		b.WriteString(", buildType ")
		b.WriteString(strings.Join(e.BuildTypes, " | "))
	}
	return b.String()
}

// source is one place provenance names its source: a repository and a ref.
type source struct {
	where, uri, ref string
}

// sources returns every place the provenance names its source repository:
// externalParameters /workflow/repository and /workflow/ref (GitHub Actions),
// /repository and /ref, /configSource/uri (provenance v0.2), and the first
// resolved dependency when it is a git URI. All of them must agree with
// the expectation: an attacker cannot put the expected repository in one
// place and build from another.
func (p *Provenance) sources() ([]source, error) {
	// Read with the statement in the common case (readStatementFast),
	// looked up in the decoded parameters otherwise.
	sp := p.sourceMembers
	if !p.sourcesRead {
		ext, _, err := p.Parameters()
		if err != nil {
			return nil, err
		}
		sp = sourceParamsOf(ext)
	}
	var out []source
	for _, at := range [...]struct {
		where     string
		repo, ref int
	}{
		{"externalParameters /workflow/repository and /workflow/ref", srcWorkflowRepository, srcWorkflowRef},
		{"externalParameters /repository and /ref", srcRepository, srcRef},
	} {
		if sp.set[at.repo] {
			out = append(out, source{at.where, sp.values[at.repo], sp.values[at.ref]})
		}
	}
	if sp.set[srcConfigSourceURI] {
		repo, ref := splitGitURI(sp.values[srcConfigSourceURI])
		out = append(out, source{"invocation.configSource.uri", repo, ref})
	}
	if strings.HasPrefix(p.firstDependency, "git+") {
		repo, ref := splitGitURI(p.firstDependency)
		out = append(out, source{"resolvedDependencies[0].uri", repo, ref})
	}
	return out, nil
}

// splitGitURI splits "git+https://host/repo@refs/tags/v1" into repository
// and ref.
func splitGitURI(u string) (repo, ref string) {
	u = strings.TrimPrefix(u, "git+")
	// An '@' in the authority (user@host) is not a ref separator.
	if i := strings.LastIndex(u, "@"); i > strings.Index(u, "://")+3 && strings.Contains(u[strings.Index(u, "://")+3:i], "/") {
		return u[:i], u[i+1:]
	}
	return u, ""
}

// normalizeSource makes "git+https://github.com/o/r.git" and
// "github.com/o/r" comparable. Only https is stripped: http stays distinct.
func normalizeSource(s string) string {
	s = strings.TrimPrefix(s, "git+")
	s = strings.TrimPrefix(s, "https://")
	s = strings.TrimSuffix(s, "/")
	return strings.TrimSuffix(s, ".git")
}

// checkInline adds the checks of inline expectations.
func checkInline(d *Document, prov *Provenance, e *Expectations) {
	if len(e.BuilderIDs) > 0 {
		d.add(matchOne("policy-builder", e.BuilderIDs, prov.BuilderID, ErrBuilderNotAllowed))
	}
	if len(e.BuildTypes) > 0 {
		d.add(matchOne("build-type", e.BuildTypes, prov.BuildType, ErrBuildTypeMismatch))
	}
	srcs, err := prov.sources()
	if err != nil {
		d.add(failed("source", e.SourceURI, "", err))
		return
	}
	if len(srcs) == 0 {
		d.add(failed("source", e.SourceURI, "no source repository in the provenance",
			fmt.Errorf("%w: expected source %s, the provenance names none (externalParameters /workflow/repository or /repository, configSource, resolvedDependencies)", ErrSourceMismatch, safetext.Term(e.SourceURI))))
		return
	}
	want := normalizeSource(e.SourceURI)
	var found []string
	for _, s := range srcs {
		if normalizeSource(s.uri) != want {
			d.add(failed("source", e.SourceURI, s.uri+" ("+s.where+")",
				fmt.Errorf("%w: expected %s, got %s in %s", ErrSourceMismatch, safetext.Quote(e.SourceURI), safetext.Quote(s.uri), s.where)))
			return
		}
		if e.SourceRef != "" {
			if ok, _ := path.Match(e.SourceRef, s.ref); !ok || s.ref == "" {
				d.add(failed("source-ref", e.SourceRef, s.ref+" ("+s.where+")",
					fmt.Errorf("%w: source ref: expected %s, got %s in %s", ErrRefNotAllowed, safetext.Quote(e.SourceRef), safetext.Quote(s.ref), s.where)))
				return
			}
		}
		found = append(found, s.uri+"@"+s.ref)
	}
	want = e.SourceURI
	if e.SourceRef != "" {
		want += " at a ref matching " + e.SourceRef
	}
	d.add(pass("source", want, strings.Join(found, ", ")))
}

// matchOne checks that found is one of allowed.
func matchOne(id string, allowed []string, found string, sentinel error) Check {
	if contains(allowed, found) {
		return pass(id, strings.Join(allowed, " | "), found)
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = safetext.Quote(a)
	}
	return failed(id, strings.Join(allowed, " | "), found, fmt.Errorf("%w: expected one of %s, got %s", sentinel, strings.Join(quoted, ", "), safetext.Quote(found)))
}

// sourcePointers are the members of externalParameters that name a
// source, by their indexes below.
var sourcePointers = [...]string{"/workflow/repository", "/workflow/ref", "/repository", "/ref", "/configSource/uri"}

const (
	srcWorkflowRepository = iota
	srcWorkflowRef
	srcRepository
	srcRef
	srcConfigSourceURI
)

// sourceParams holds the string at each of sourcePointers, if it is one.
type sourceParams struct {
	values [len(sourcePointers)]string
	set    [len(sourcePointers)]bool
}

// sourceParamsOf looks sourcePointers up in decoded parameters.
func sourceParamsOf(ext map[string]any) (sp sourceParams) {
	for i, ptr := range sourcePointers {
		v, ok := lookupPointer(any(ext), ptr)
		sp.values[i], sp.set[i] = v.(string)
		sp.set[i] = sp.set[i] && ok
	}
	return sp
}
