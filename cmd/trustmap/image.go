package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/oci"
)

// registryFlags are how trustmap reaches registries.
type registryFlags struct {
	registryCA string
}

func addRegistryFlags(fl *pflag.FlagSet, f *registryFlags) {
	fl.StringVar(&f.registryCA, "registry-ca", "", "PEM CA certificates trusted for registries, in addition to the system roots")
}

// registryClient reaches registries with the Docker config and credential
// helpers (authn.DefaultKeychain), TLS with the system roots (plus
// --registry-ca), and plain HTTP only to loopback.
func registryClient(f registryFlags) (*oci.Client, error) {
	o := oci.Options{Keychain: authn.DefaultKeychain, Transport: oci.NewTransport(nil), RetryDelay: time.Second}
	if f.registryCA != "" {
		pem, err := limitio.ReadFile(f.registryCA, 1<<20)
		if err != nil {
			return nil, cli.Usage(err)
		}
		pool, err := oci.SystemRootsWith(pem)
		if err != nil {
			return nil, cli.Usage(fmt.Errorf("--registry-ca %s: %w", f.registryCA, err))
		}
		o.Transport = oci.NewTransport(pool)
	}
	return oci.New(o), nil
}

// imageArgs reports whether the arguments name one image (oci:// or
// oci-layout://); images and files are not mixed.
func imageArgs(args []string) (bool, error) {
	n := 0
	for _, a := range args {
		if oci.IsReference(a) {
			n++
		}
	}
	switch {
	case n == 0:
		return false, nil
	case n == 1 && len(args) == 1:
		return true, nil
	}
	return false, cli.Usage(errors.New("verify one image per run (use --batch for many), and images and files separately"))
}

// imageWithoutScheme refuses an artifact argument that is no file but reads
// as an image reference without its scheme (ghcr.io/example/app:v1.2.3),
// saying how to name the image.
func imageWithoutScheme(args []string) error {
	for _, a := range args {
		if _, err := os.Lstat(a); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		if _, err := oci.ParseReference(oci.RegistryScheme + a); err == nil {
			return cli.Usage(fmt.Errorf("%s: no such file; to verify an image in a registry, name it %s%s (or oci-layout://DIR:TAG for a layout)", safetext.Term(a), oci.RegistryScheme, safetext.Term(a)))
		}
	}
	return nil
}

// imageInputs finds the image and its provenance: from --provenance when
// given, otherwise in the registry or layout, with the VSAs attached to it
// when a policy may need them for the source and dependencies. The digest a
// tag resolved to is printed, so that it can be pinned.
func imageInputs(ctx context.Context, e *env, f verifyFlags, ref string) (*oci.Image, []byte, []trustmap.VSAInput, error) {
	c, err := registryClient(f.registryFlags)
	if err != nil {
		return nil, nil, nil, err
	}
	if f.policy != "" {
		c = c.WithVSAs()
	}
	im, prov, atts, vsas, err := findImageProvenance(ctx, c, ref, f.provenance)
	if err != nil {
		return nil, nil, nil, err
	}
	if im.Resolved {
		fmt.Fprintf(e.Stderr, "resolved %s to %s (pin it: %s)\n", safetext.Term(ref), im.Digest, safetext.Term(im.Pinned))
	}
	// Documents are numbered as in the result below.
	for i, a := range atts {
		fmt.Fprintf(e.Stderr, "provenance document %d: %s, %s in manifest %s\n", i+1, safetext.Term(a.Source), safetext.Term(a.MediaType), a.Manifest)
	}
	for _, v := range vsas {
		fmt.Fprintf(e.Stderr, "VSA: %s\n", safetext.Term(v.Name))
	}
	return im, prov, vsas, nil
}

// findImageProvenance resolves ref and reads its provenance (provFile, or
// what the registry holds) and the VSAs attached to it (when c reads them).
// Errors carry their exit code.
func findImageProvenance(ctx context.Context, c *oci.Client, ref, provFile string) (*oci.Image, []byte, []oci.Attestation, []trustmap.VSAInput, error) {
	if provFile != "" {
		im, err := c.Resolve(ctx, ref)
		if err != nil {
			return nil, nil, nil, nil, registryErr(err)
		}
		prov, err := limitio.ReadFile(provFile, trustmap.MaxProvenanceBytes)
		if err != nil {
			return nil, nil, nil, nil, cli.Usage(err)
		}
		return im, prov, nil, nil, nil
	}
	d, err := c.Discover(ctx, ref)
	if err != nil {
		return nil, nil, nil, nil, registryErr(err)
	}
	var vsas []trustmap.VSAInput
	for _, a := range d.VSAs {
		vsas = append(vsas, trustmap.VSAInput{Name: fmt.Sprintf("%s %s in manifest %s", a.Source, a.Layer, a.Manifest), Raw: a.Document})
	}
	return &d.Image, d.Provenance(), d.Attestations, vsas, nil
}

// registryErr: a reference that does not parse is bad usage; everything
// else (unreachable, refused, not found, nothing attached, inconsistent
// content) fails the verification.
func registryErr(err error) error {
	if errors.Is(err, oci.ErrBadReference) {
		return cli.Usage(err)
	}
	return cli.Failed(err)
}

// attachVSA pushes the signed VSA to the registry as a referrer of the
// image.
func attachVSA(ctx context.Context, e *env, f verifyFlags, im *oci.Image, env []byte) error {
	c, err := registryClient(f.registryFlags)
	if err != nil {
		return err
	}
	d, err := c.Attach(ctx, im, env)
	if err != nil {
		return cli.Failed(fmt.Errorf("attach the VSA: %w", err))
	}
	fmt.Fprintf(e.Stderr, "attached the VSA to %s as referrer %s\n", safetext.Term(im.Pinned), d)
	return nil
}

func newAttachCmd(e *env) *cobra.Command {
	var rf registryFlags
	var provenance string
	cmd := &cobra.Command{
		Use:   "attach --provenance FILE oci://REGISTRY/REPO:TAG",
		Short: "Attach provenance (DSSE envelopes or Sigstore bundles) to an image in a registry",
		Long: `attach pushes each document of --provenance (a DSSE envelope, a Sigstore
bundle, or JSON Lines of them) to the image's repository as an OCI 1.1
referrer of the image, where trustmap verify, cosign and other verifiers find
it. Registries without the referrers API get the sha256-HEX referrers tag.
A tag is resolved once; the documents are attached to the digest it names.

Registry credentials come from the Docker config and its credential helpers;
TLS uses the system roots plus --registry-ca; plain HTTP is used only for
loopback registries.

Exit codes: 0 attached; 1 the registry refused; 2 bad usage or unreadable input.`,
		Example: `  trustmap attach --provenance app.intoto.jsonl oci://registry.example.com/app:v1.2.3`,
		Args:    cli.ExactArgs("the image to attach to (oci://REGISTRY/REPO:TAG or @sha256:…)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if provenance == "" {
				return cli.Usage(fmt.Errorf("%w: give --provenance", trustmap.ErrNoProvenance))
			}
			if r, err := oci.ParseReference(args[0]); err != nil || r.Layout() {
				return cli.Usage(fmt.Errorf("%w: expected oci://REGISTRY/REPO:TAG or @sha256:…", oci.ErrBadReference))
			}
			b, err := limitio.ReadFile(provenance, trustmap.MaxProvenanceBytes)
			if err != nil {
				return cli.Usage(err)
			}
			// One document (indented or not), or JSON Lines of them.
			docs := [][]byte{b}
			if !json.Valid(b) {
				docs = nil
				for _, l := range bytes.Split(b, []byte("\n")) {
					if len(bytes.TrimSpace(l)) > 0 {
						docs = append(docs, l)
					}
				}
			}
			if len(bytes.TrimSpace(b)) == 0 {
				return cli.Usage(fmt.Errorf("%w: %s is empty", trustmap.ErrNoProvenance, provenance))
			}
			c, err := registryClient(rf)
			if err != nil {
				return err
			}
			im, err := c.Resolve(ctx, args[0])
			if err != nil {
				return registryErr(err)
			}
			if im.Resolved {
				fmt.Fprintf(e.Stderr, "resolved %s to %s\n", safetext.Term(args[0]), im.Digest)
			}
			for _, d := range docs {
				if err := oci.CheckNamesImage(d, im); err != nil {
					return cli.Usage(fmt.Errorf("%s: %w", provenance, err))
				}
			}
			for _, d := range docs {
				ref, err := c.Attach(ctx, im, d)
				if err != nil {
					if errors.Is(err, oci.ErrMalformed) {
						return cli.Usage(fmt.Errorf("%s: %w", provenance, err))
					}
					return cli.Failed(err)
				}
				fmt.Fprintf(e.Stdout, "attached %s to %s as referrer %s\n", safetext.Term(provenance), safetext.Term(im.Pinned), ref)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&provenance, "provenance", "", "DSSE envelope(s) or Sigstore bundle(s) to attach, one or JSON Lines")
	addRegistryFlags(cmd.Flags(), &rf)
	return cmd
}

// verifyBatchImage verifies a batch line naming an image: its provenance is
// the line's file when given, otherwise what the registry or layout holds.
func verifyBatchImage(ctx context.Context, v *verifier, it trustmap.BatchItem, resolve func(string) string) (*trustmap.Result, error) {
	prov := it.Provenance
	if prov != "" {
		prov = resolve(prov)
	}
	im, b, _, vsas, err := findImageProvenance(ctx, v.registry, it.Artifact, prov)
	if err != nil {
		return nil, errors.Unwrap(err) // the line's error, not an exit code
	}
	o := v.opts
	o.Package = it.Package
	o.VSAs = append(o.VSAs[:len(o.VSAs):len(o.VSAs)], vsas...)
	return trustmap.Verify(ctx, v.roots, b, []*trustmap.Artifact{im.Artifact()}, o)
}
