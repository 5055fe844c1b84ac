package trustmap

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/questionnaire"
)

// SourcePolicy is what a package's source must show: the source revision
// the provenance names is covered by a source VSA (SLSA_SOURCE_LEVEL_n,
// n >= MinLevel) from a trusted verifier for that repository and revision.
type SourcePolicy struct {
	// MinLevel is the minimum SLSA Source level, 1-4.
	MinLevel int `json:"minLevel"`
	// Repositories are the repository URIs the source may come from
	// (git+https://github.com/org/app, https://github.com/org/app and
	// github.com/org/app name the same one). Empty: any repository, as long
	// as a trusted verifier vouches for it.
	Repositories []string `json:"repositories,omitempty"`
}

// DependencyPolicy is what a package's resolved dependencies must show:
// every resolvedDependencies entry with a digest (the source revision
// aside, which SourcePolicy checks) is covered by a VSA with
// SLSA_BUILD_LEVEL_n (n >= MinLevel) from a trusted verifier, or by
// provenance that itself verifies at that level against the roots.
type DependencyPolicy struct {
	// MinLevel is the minimum SLSA Build level of each dependency, 1-3.
	MinLevel int `json:"minLevel"`
	// Ignore are glob patterns on a dependency's uri or name (path.Match:
	// '*' does not cross '/'; "pkg:npm/left-pad@*") for what the producer
	// does not claim.
	Ignore []string `json:"ignore,omitempty"`
}

// MaxDependencies bounds the resolvedDependencies entries checked in one
// provenance document.
const MaxDependencies = 10000

// DefaultVSAMaxAge is how old a VSA's timeVerified may be when no maximum
// age is given.
const DefaultVSAMaxAge = 90 * 24 * time.Hour

func (s *SourcePolicy) validate() error {
	if s.MinLevel < 1 || s.MinLevel > trackLevelMax["SOURCE"] {
		return fmt.Errorf("source.minLevel: expected 1-%d, got %d", trackLevelMax["SOURCE"], s.MinLevel)
	}
	for _, r := range s.Repositories {
		if normalizeSource(r) == "" {
			return errors.New("source.repositories: empty repository")
		}
	}
	return nil
}

func (d *DependencyPolicy) validate() error {
	if d.MinLevel < 1 || d.MinLevel > 3 {
		return fmt.Errorf("dependencies.minLevel: expected 1-3, got %d", d.MinLevel)
	}
	for _, p := range d.Ignore {
		if p == "" || p == "*" {
			return fmt.Errorf("dependencies.ignore: %q would ignore every dependency: name what is ignored", p)
		}
		if _, err := path.Match(p, ""); err != nil {
			return fmt.Errorf("dependencies.ignore: %q: %v", p, err)
		}
	}
	return nil
}

// UsedVSA is a VSA a verdict relied on.
type UsedVSA struct {
	Name          string `json:"name"`
	PayloadDigest string `json:"payloadDigest"`
	// FileDigest is the sha256 of the document as given (for a VSA's
	// inputAttestations).
	FileDigest string `json:"-"`
	For        string `json:"for"`
}

// supplyChain checks a document that passed everything else against the
// package's source and dependency policies.
type supplyChain struct {
	ctx    context.Context
	set    *VerifierSet
	claims []*vsaClaim
	inputs []VSAInput
	// byDigest indexes the claims by "alg:value" of their subjects, so
	// that a dependency is compared only with the VSAs about it.
	byDigest map[string][]int
	o        VerifyOptions
	roots    *Roots
	res      *Result
	// readErrs are why VSAs could not be read (signature, verifier, age).
	readErrs []string
	// sourceIndex is the resolvedDependencies entry checkSource verified,
	// or -1.
	sourceIndex int
	// used holds the payload digests of the documents relied on.
	used map[string]bool
}

// maxReasons bounds the reasons listed for a resource no VSA covers.
const maxReasons = 4

// newSupplyChain reads every VSA once: the checks that do not depend on
// the resource (signature, verifier, age). The same statement given twice
// is read once.
func newSupplyChain(ctx context.Context, roots *Roots, o VerifyOptions, res *Result) *supplyChain {
	s := &supplyChain{ctx: ctx, o: o, roots: roots, res: res, set: o.Verifiers, byDigest: map[string][]int{}, sourceIndex: -1}
	if s.set == nil {
		s.set = roots.VerifierSet()
	}
	maxAge := o.VSAMaxAge
	if maxAge == 0 {
		maxAge = DefaultVSAMaxAge
	}
	seen := map[string]bool{}
	for _, in := range o.VSAs {
		d := &Document{}
		c := readVSA(ctx, s.set, in, VerifyVSAOptions{At: o.At, MaxAge: maxAge, Sigstore: o.Sigstore}, d)
		if c == nil {
			if len(s.readErrs) < maxReasons {
				s.readErrs = append(s.readErrs, safetext.Term(in.Name)+": "+safetext.Term(errString(d.err)))
			}
			continue
		}
		if seen[c.payloadDigest] {
			continue
		}
		seen[c.payloadDigest] = true
		k := len(s.claims)
		s.claims = append(s.claims, c)
		s.inputs = append(s.inputs, in)
		keys := map[string]bool{}
		for _, sub := range c.subjects {
			for alg, v := range sub.Digest {
				if alg != "md5" && v != "" && !keys[alg+":"+v] {
					keys[alg+":"+v] = true
					s.byDigest[alg+":"+v] = append(s.byDigest[alg+":"+v], k)
				}
			}
		}
	}
	return s
}

func errString(err error) string {
	if err == nil {
		return "unreadable"
	}
	return err.Error()
}

// cover finds a VSA that covers target; it returns the level it grants on
// target's track (never above what its verifier is trusted for), or why
// none does.
func (s *supplyChain) cover(target vsaTarget, what string) (int, string) {
	var cands []int
	seen := map[int]bool{}
	for _, alg := range sortedKeys(target.digests) {
		for _, k := range s.byDigest[alg+":"+target.digests[alg]] {
			if !seen[k] {
				seen[k] = true
				cands = append(cands, k)
			}
		}
	}
	slices.Sort(cands)
	var why []string
	for _, k := range cands {
		c := s.claims[k]
		d := &Document{}
		level, err := c.coverLevel(d, target)
		if err != nil {
			if len(why) < maxReasons {
				why = append(why, safetext.Term(c.name)+": "+err.Error())
			}
			continue
		}
		s.use(&s.res.VSAs, c.payloadDigest, func() UsedVSA {
			return UsedVSA{Name: safetext.Term(c.name), PayloadDigest: c.payloadDigest, FileDigest: sha256Hex(s.inputs[k].Raw), For: safetext.Term(what)}
		})
		return level, ""
	}
	if len(cands) == 0 {
		why = append(why, fmt.Sprintf("none of the %d VSAs read has a subject with %s", len(s.claims), describeDigests(target.digests)))
	}
	why = append(why, s.readErrs...)
	return 0, strings.Join(why, "; ")
}

// use records a document relied on, once.
func (s *supplyChain) use(list *[]UsedVSA, payloadDigest string, u func() UsedVSA) {
	if s.used[payloadDigest] {
		return
	}
	s.used[payloadDigest] = true
	*list = append(*list, u())
}

// reset starts the checks of another provenance document: nothing it
// relies on is carried over.
func (s *supplyChain) reset() {
	s.res.VSAs, s.res.DependencyProvenance, s.res.DependencyLevels = nil, nil, nil
	s.used = map[string]bool{}
	s.sourceIndex = -1
}

// sourceRevision is the resolvedDependencies entry of the source: the
// first with a git URI and a commit digest.
func sourceRevision(prov *Provenance) (int, bool) {
	for i, dep := range prov.Dependencies {
		if !strings.HasPrefix(dep.URI, "git+") {
			continue
		}
		if dep.Digest["gitCommit"] != "" || dep.Digest["sha1"] != "" {
			return i, true
		}
	}
	return -1, false
}

// commitDigests are the digests a source VSA's subject must carry for a
// revision: gitCommit (and sha1, which names the same commit).
func commitDigests(dep ResolvedDependency) map[string]string {
	out := map[string]string{}
	for _, alg := range []string{"gitCommit", "sha1", "sha256"} {
		if v := dep.Digest[alg]; v != "" {
			out[alg] = v
		}
	}
	if out["gitCommit"] == "" && out["sha1"] != "" {
		out["gitCommit"] = out["sha1"]
	}
	return out
}

func (s *supplyChain) checkSource(d *Document, prov *Provenance, sp *SourcePolicy) {
	req := LevelRequirement{Name: fmt.Sprintf("SLSA_SOURCE_LEVEL_%d", sp.MinLevel), Track: "SOURCE", Level: sp.MinLevel}
	i, ok := sourceRevision(prov)
	if !ok {
		d.add(failed("source-level", req.Name+" for the source revision", "no source revision",
			fmt.Errorf("%w: expected a resolvedDependencies entry with a git+ URI and a gitCommit digest, got none", ErrSourceNotFound)))
		return
	}
	dep := prov.Dependencies[i]
	repo, _ := splitGitURI(dep.URI)
	rev := commitDigests(dep)
	where := fmt.Sprintf("%s@%s (resolvedDependencies[%d])", repo, describeDigests(rev), i)
	// Every place the provenance names its source must name this one.
	srcs, err := prov.sources()
	if err != nil {
		d.add(failed("source-level", req.Name, "", err))
		return
	}
	for _, src := range srcs {
		if normalizeSource(src.uri) != normalizeSource(repo) {
			d.add(failed("source-level", repo, src.uri+" ("+src.where+")",
				fmt.Errorf("%w: the source revision is from %s, but %s names %s", ErrSourceMismatch, safetext.Quote(repo), src.where, safetext.Quote(src.uri))))
			return
		}
	}
	if len(sp.Repositories) > 0 {
		allowed := false
		for _, r := range sp.Repositories {
			if normalizeSource(r) == normalizeSource(repo) {
				allowed = true
			}
		}
		if !allowed {
			d.add(failed("source-level", strings.Join(sp.Repositories, " | "), repo,
				fmt.Errorf("%w: expected a source from %s, got %s", ErrSourceMismatch, safetext.Term(strings.Join(sp.Repositories, ", ")), safetext.Quote(repo))))
			return
		}
	}
	target := vsaTarget{
		digests: rev, resourceURI: repo, levels: []LevelRequirement{req},
		sameResource: func(u string) bool {
			r, _ := splitGitURI(u)
			return normalizeSource(r) == normalizeSource(repo)
		},
	}
	got, why := s.cover(target, "source "+where)
	if why != "" {
		d.add(failed("source-level", req.Name+" for "+where, "no VSA covers it",
			fmt.Errorf("%w: expected a VSA from a trusted verifier with %s or higher for %s, got none that covers it (%s)", ErrSourceNotVerified, req.Name, safetext.Term(where), why)))
		return
	}
	s.sourceIndex = i
	d.add(pass("source-level", req.Name+" for "+where, fmt.Sprintf("SLSA_SOURCE_LEVEL_%d", got)))
}

func (s *supplyChain) checkDependencies(d *Document, prov *Provenance, dp *DependencyPolicy) {
	req := LevelRequirement{Name: fmt.Sprintf("SLSA_BUILD_LEVEL_%d", dp.MinLevel), Track: "BUILD", Level: dp.MinLevel}
	if len(prov.Dependencies) > MaxDependencies {
		d.add(failed("dependencies", fmt.Sprintf("at most %d resolvedDependencies", MaxDependencies), fmt.Sprint(len(prov.Dependencies)),
			fmt.Errorf("%w: %d resolvedDependencies, more than %d", ErrMalformedProvenance, len(prov.Dependencies), MaxDependencies)))
		return
	}
	src := s.skippedSource(prov)
	levels := map[string]uint64{}
	checked, ignored, undigested := 0, 0, 0
	for i, dep := range prov.Dependencies {
		if i == src {
			continue
		}
		digests := map[string]string{}
		for alg, v := range dep.Digest {
			if alg != "md5" && v != "" {
				digests[alg] = v
			}
		}
		name := dep.URI
		if name == "" {
			name = dep.Name
		}
		if len(dep.Digest) == 0 {
			// Nothing identifies what was used: nothing to check it by.
			undigested++
			continue
		}
		if dependencyIgnored(dep, dp.Ignore) {
			ignored++
			continue
		}
		where := fmt.Sprintf("%s (%s, resolvedDependencies[%d])", name, describeDigests(digests), i)
		if len(digests) == 0 {
			d.add(failed("dependencies", req.Name+" for every dependency", fmt.Sprintf("resolvedDependencies[%d] without a usable digest", i),
				fmt.Errorf("%w: expected a sha256, sha512 or other digest for %s (resolvedDependencies[%d]), got only md5 or empty values", ErrDependencyNotVerified, safetext.Quote(name), i)))
			return
		}
		target := vsaTarget{digests: digests, resourceURI: name, levels: []LevelRequirement{req},
			sameResource: func(u string) bool { return u != "" && (u == dep.URI || (dep.URI == "" && u == dep.Name)) }}
		got, why := s.cover(target, "dependency "+where)
		if why != "" {
			if l, pwhy := s.coverByProvenance(digests, dp.MinLevel, where); pwhy == "" {
				got, why = l, ""
			} else if len(s.o.DependencyProvenance) > 0 {
				why += "; " + pwhy
			}
		}
		if why != "" {
			d.add(failed("dependencies", req.Name+" for every dependency", where+": not covered",
				fmt.Errorf("%w: expected %s or higher for %s, got no VSA or provenance that covers it (%s)", ErrDependencyNotVerified, req.Name, safetext.Term(where), why)))
			return
		}
		levels[fmt.Sprintf("SLSA_BUILD_LEVEL_%d", got)]++
		checked++
	}
	s.res.DependencyLevels = levels
	found := fmt.Sprintf("%d covered, %d ignored by the policy", checked, ignored)
	if undigested > 0 {
		found += fmt.Sprintf(", %d without a digest (not checkable)", undigested)
	}
	if src >= 0 {
		found += fmt.Sprintf(", the source revision (resolvedDependencies[%d]) apart", src)
	}
	d.add(pass("dependencies", req.Name+" for every dependency", found))
}

// coverByProvenance verifies the dependency provenance given
// (VerifyOptions.DependencyProvenance) for the dependency's digests: its
// signature, subject and level against the roots (no expectations: the
// dependency's producer is not this package's). It returns the level, or
// why none covers it.
func (s *supplyChain) coverByProvenance(digests map[string]string, minLevel int, where string) (int, string) {
	if len(s.o.DependencyProvenance) == 0 {
		return 0, "no dependency provenance was given"
	}
	art := DigestArtifact(where, digests)
	o := s.o
	o.Policy, o.Expect, o.TOFU, o.NoExpectationsUnsafe = nil, nil, nil, false
	o.AllowUncertifiedUnsafe = false
	o.MinLevel = questionnaire.Level(minLevel)
	var why []string
	for _, in := range s.o.DependencyProvenance {
		docs, err := splitDocuments(in.Raw)
		if err != nil {
			why = append(why, safetext.Term(in.Name)+": "+err.Error())
			continue
		}
		for _, raw := range docs {
			dd := verifyDocument(s.ctx, s.roots, raw, []*Artifact{art}, nil, o)
			if dd.Passed {
				s.use(&s.res.DependencyProvenance, dd.PayloadDigest, func() UsedVSA {
					return UsedVSA{Name: safetext.Term(in.Name), PayloadDigest: dd.PayloadDigest, FileDigest: sha256Hex(in.Raw), For: safetext.Term("dependency " + where)}
				})
				return int(dd.Level), ""
			}
			why = append(why, safetext.Term(in.Name)+": "+errString(dd.err))
		}
	}
	if len(why) > 4 {
		why = append(why[:4], fmt.Sprintf("and %d more", len(why)-4))
	}
	return 0, "provenance: " + strings.Join(why, "; ")
}

// skippedSource is the resolvedDependencies entry the dependency check
// leaves to the source check, or -1: the one checkSource verified, or,
// without a source policy, the source revision when it is the repository
// every other place of the provenance names (a git dependency from
// anywhere else is a dependency like any other).
func (s *supplyChain) skippedSource(prov *Provenance) int {
	if s.sourceIndex >= 0 {
		return s.sourceIndex
	}
	i, ok := sourceRevision(prov)
	if !ok {
		return -1
	}
	repo, _ := splitGitURI(prov.Dependencies[i].URI)
	srcs, err := prov.sources()
	if err != nil || len(srcs) == 0 {
		return -1
	}
	for _, src := range srcs {
		if normalizeSource(src.uri) != normalizeSource(repo) {
			return -1
		}
	}
	return i
}

// dependencyIgnored matches the ignore globs against the dependency's uri
// (its name only when it has no uri). '*' crosses neither '/' nor the '?'
// and '#' that start a purl's qualifiers and subpath: a dependency with
// them is ignored only by a pattern that names them.
func dependencyIgnored(dep ResolvedDependency, patterns []string) bool {
	s := dep.URI
	if s == "" {
		s = dep.Name
	}
	if s == "" {
		return false
	}
	for _, p := range patterns {
		if strings.ContainsAny(s, "?#") && !strings.ContainsAny(p, "?#") {
			continue
		}
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}
