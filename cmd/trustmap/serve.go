package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/atomicfile"
	"github.com/hallmark-build/hallmark/internal/cli"
	"github.com/hallmark-build/hallmark/internal/limitio"
	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/server"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

type serveFlags struct {
	verify          verifyFlags
	storeURI        string
	listen          string
	tokens          string
	publicArchive   bool
	approverKeys    []string
	approvalThresh  int
	maxBody         int64
	timeout         time.Duration
	shutdownTimeout time.Duration
	tlsCert, tlsKey string
	clientCA        string
	noTOFU          bool
	imageRegistries []string
}

func newServeCmd(e *env) *cobra.Command { return newServeCmdWith(e, nil) }

// newServeCmdWith takes runF, the seam tests use to run the parsed flags
// with their own signals; nil runs the service on the process's signals.
func newServeCmdWith(e *env, runF func(context.Context, serveFlags) error) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve --roots roots.json --store URI --vsa-key KEY --verifier-id URI --tokens FILE",
		Short: "Run the upload gate: an HTTP service that verifies uploads and archives every verdict",
		Long: `serve is a package registry's upload gate. POST /v1/verify takes an upload (package,
artifact digests, provenance) and answers with the same result as
'trustmap verify --format json' and a signed VSA, after archiving everything
received and issued (content-addressed) in the store:

  --store sqlite:PATH       embedded, no setup (the default: sqlite:trustmap.db)
  --store postgres://...    shared by several replicas behind a load balancer

Each package's first passing upload pins its builder, buildType and
parameters (trust on first use); later uploads must match. A change is
proposed (POST /v1/packages/{name}/proposals), signed by --approvals-threshold
distinct --approver-key holders (trustmap expectations sign) and
applied atomically, with an append-only audit log (GET /v1/audit).

With --image-registry HOST, an upload may name an image in that registry
({"package": …, "image": "oci://HOST/REPO:TAG"}) instead of artifact
digests: the gate resolves it and verifies the provenance attached to it (as
'trustmap verify oci://…'), reading registries with the Docker config's
credentials and --registry-ca. It reaches no registry that is not listed.

Writes need a bearer token listed (hashed) in --tokens, or a client
certificate signed by --client-ca. SIGHUP reloads roots and policy (a bad
file keeps the previous ones); SIGTERM finishes requests in flight and stops.
The API is described at /v1/openapi.json; /healthz, /readyz, /metrics.`,
		Example: `  trustmap serve new-token ci --tokens tokens.txt
  trustmap serve --roots roots.json --policy policy.json --store sqlite:gate.db \
      --vsa-key gate.key --verifier-id https://registry.example/gate --tokens tokens.txt
  trustmap serve --roots roots.json --store postgres://gate@db.internal/gate \
      --vsa-key gate.key --verifier-id https://registry.example/gate --tokens tokens.txt \
      --approver-key alice.pub --approver-key bob.pub --approvals-threshold 2 --listen :8080
  trustmap serve --roots roots.json --store sqlite:gate.db --vsa-key gate.key \
      --verifier-id https://registry.example/gate --tokens tokens.txt \
      --image-registry registry.example.com --registry-ca internal-ca.pem`,
		Args: cli.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f.verify.policyThresholdSet = cmd.Flags().Changed("policy-threshold")
			if f.verify.provenance != "" || f.verify.pkg != "" || f.verify.tofu != "" {
				return cli.Usage(errors.New("serve takes no --provenance, --package or --tofu-store: each upload names them, and pins are kept in --store"))
			}
			if runF != nil {
				return runF(cmd.Context(), f)
			}
			sigs := make(chan os.Signal, 1)
			signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
			defer signal.Stop(sigs)
			return runServe(cmd.Context(), e, f, sigs, nil)
		},
	}
	fl := cmd.Flags()
	v := &f.verify
	// The trust inputs and loosenings are verify's; the per-upload ones
	// (--provenance, --package, --tofu-store) come with each request.
	addVerifyInputFlags(fl, v)
	fl.StringVar(&v.vsaKey, "vsa-key", "", "private key that signs a VSA for every verdict")
	fl.StringVar(&v.verifierID, "verifier-id", "", "URI identifying this verifier in the VSAs")
	fl.StringVar(&f.storeURI, "store", "sqlite:trustmap.db", "archive and expectations store: sqlite:PATH or postgres://...")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8080", "address to listen on")
	fl.StringVar(&f.tokens, "tokens", "", "file of write tokens, one 'NAME sha256:HEX' per line (trustmap serve new-token)")
	fl.BoolVar(&f.publicArchive, "public-archive", false, "let anyone read the archive and the audit log (default: token holders only)")
	fl.StringArrayVar(&f.approverKeys, "approver-key", nil, "public key allowed to approve expectation changes (repeatable)")
	fl.IntVar(&f.approvalThresh, "approvals-threshold", 1, "how many distinct --approver-key signatures apply a change (as expectations approve)")
	fl.IntVar(&f.approvalThresh, "approval-threshold", 1, "")
	fl.MarkDeprecated("approval-threshold", "use --approvals-threshold, as expectations approve does")
	fl.Int64Var(&f.maxBody, "max-body", server.DefaultMaxBody, "largest request body accepted, in bytes")
	fl.DurationVar(&f.timeout, "timeout", server.DefaultTimeout, "deadline of each request")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long SIGTERM waits for requests in flight")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "private key of --tls-cert (PEM)")
	fl.StringVar(&f.clientCA, "client-ca", "", "accept client certificates signed by these CAs (PEM) for writes (mTLS)")
	fl.StringArrayVar(&f.imageRegistries, "image-registry", nil, "registry host (HOST[:PORT]) whose images uploads may name instead of artifact digests; the gate reads no other (repeatable)")
	addRegistryFlags(fl, &v.registryFlags)
	fl.BoolVar(&f.noTOFU, "insecure-no-tofu", false, "UNSAFE: do not pin packages on first use (only the policy's expectations are checked)")
	cmd.AddCommand(newTokenCmd(e))
	return cmd
}

// loadTrust reads roots, policy and keys: at start and on every SIGHUP.
func loadTrust(ctx context.Context, e *env, f serveFlags, vsaKey *attest.PrivateKey) (*server.Trust, error) {
	vf := f.verify
	vf.format = "json"
	v, err := loadVerifier(ctx, e, vf)
	if err != nil {
		return nil, err
	}
	approvers, err := loadPublicKeys(f.approverKeys)
	if err != nil {
		return nil, err
	}
	if len(approvers) > 0 && (f.approvalThresh < 1 || f.approvalThresh > len(approvers)) {
		return nil, cli.CheckThreshold("--approvals-threshold", f.approvalThresh, "--approver-key", len(approvers))
	}
	t := &server.Trust{
		Roots: v.roots, Policy: v.policy, PolicyData: v.policyData, PolicyURI: trustmap.TOFUStoreURI, VerifierVersion: buildVersion(),
		Options: v.opts, TOFU: !f.noTOFU, VSAKey: vsaKey, VerifierID: vf.verifierID,
		Approvers: approvers, Threshold: f.approvalThresh, LoadedAt: e.Now(),
	}
	if vf.policy != "" {
		t.PolicyURI = fileURI(vf.policy)
	}
	return t, nil
}

// runServe runs the service until ctx ends or a SIGTERM/SIGINT arrives on
// sigs; SIGHUP reloads. ready, if set, is told the listening address.
func runServe(ctx context.Context, e *env, f serveFlags, sigs <-chan os.Signal, ready func(net.Addr)) error {
	if f.verify.roots == "" {
		return cli.Usage(errors.New("--roots is required"))
	}
	if f.verify.vsaKey == "" || f.verify.verifierID == "" {
		return cli.Usage(errors.New("trustmap serve needs --vsa-key and --verifier-id: every verdict gets a signed VSA; example: trustmap serve --roots roots.json --vsa-key gate.key --verifier-id https://registry.example/gate --tokens tokens.txt"))
	}
	if (f.tlsCert == "") != (f.tlsKey == "") || (f.clientCA != "" && f.tlsCert == "") {
		return cli.Usage(errors.New("--tls-cert and --tls-key go together, and --client-ca needs them"))
	}
	log := slog.New(slog.NewTextHandler(e.Stderr, nil))
	if f.verify.at != "" {
		at, err := parseTime("--at", f.verify.at, time.Time{})
		if err != nil {
			return err
		}
		fixed := *e
		fixed.Now = func() time.Time { return at }
		e = &fixed
	}
	vsaKey, err := attest.LoadPrivateKeyFile(f.verify.vsaKey, e.PassFunc(f.verify.vsaKey))
	if err != nil {
		return cli.Usage(err)
	}
	trust, err := loadTrust(ctx, e, f, vsaKey)
	if err != nil {
		return err
	}
	var tokens []server.Token
	if f.tokens != "" {
		if tokens, err = readTokens(f.tokens); err != nil {
			return cli.Usage(err)
		}
	}
	if len(tokens) == 0 && f.clientCA == "" {
		log.Warn("no --tokens and no --client-ca: every write will be refused")
	}
	var images *server.Images
	if len(f.imageRegistries) > 0 {
		for _, h := range f.imageRegistries {
			if _, err := name.NewRegistry(h, name.StrictValidation); err != nil || strings.ContainsAny(h, "/@") {
				return cli.Usage(fmt.Errorf("--image-registry %q: expected a registry host, HOST[:PORT]", h))
			}
		}
		c, err := registryClient(f.verify.registryFlags)
		if err != nil {
			return err
		}
		images = &server.Images{Client: c, Registries: f.imageRegistries}
	} else if f.verify.registryCA != "" {
		return cli.Usage(errors.New("--registry-ca is for the registries of --image-registry"))
	}
	st, err := store.Open(ctx, f.storeURI)
	if err != nil {
		return cli.Usage(fmt.Errorf("--store: %w", err))
	}
	defer st.Close()
	srv, err := server.New(trust, st, server.Options{
		Tokens: tokens, PublicArchive: f.publicArchive, MaxBodyBytes: f.maxBody, Timeout: f.timeout,
		Now: e.Now, Logger: log, Images: images,
	})
	if err != nil {
		return cli.Usage(err)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return cli.Usage(err)
	}
	hs := server.NewHTTPServer(f.listen, srv, f.timeout)
	hs.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	if f.tlsCert != "" {
		cfg, err := serverTLS(f)
		if err != nil {
			ln.Close()
			return cli.Usage(err)
		}
		hs.TLSConfig = cfg
		ln = tls.NewListener(ln, cfg)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("trustmap serve listening", "addr", ln.Addr().String(), "store", storeKind(f.storeURI), "roots", len(trust.Roots.Entries), "tofu", trust.TOFU)
	if ready != nil {
		ready(ln.Addr())
	}
	for {
		select {
		case err := <-errc:
			return err
		case <-ctx.Done():
			return shutdown(hs, f.shutdownTimeout, log)
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				log.Info("shutting down: finishing requests in flight", "signal", sig.String())
				return shutdown(hs, f.shutdownTimeout, log)
			}
			t, err := loadTrust(ctx, e, f, vsaKey)
			if err == nil {
				err = srv.SetTrust(t)
			}
			if err != nil {
				log.Error("reload failed: keeping the previous roots and policy", "loadedAt", srv.Trust().LoadedAt.Format(time.RFC3339), "err", err)
			} else {
				log.Info("reloaded roots and policy", "roots", len(t.Roots.Entries))
			}
			srv.Reloaded(e.Now(), err)
		}
	}
}

func shutdown(hs *http.Server, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}

func storeKind(uri string) string {
	kind, _, _ := strings.Cut(uri, ":")
	return kind
}

func serverTLS(f serveFlags) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if f.clientCA != "" {
		pem, err := limitio.ReadFile(f.clientCA, 1<<20)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: no PEM certificate", f.clientCA)
		}
		// Reads stay open to clients without a certificate; writes check
		// for a verified one.
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// readTokens reads 'NAME sha256:HEX' lines; # starts a comment.
func readTokens(path string) ([]server.Token, error) {
	b, err := limitio.ReadFile(path, 1<<20)
	if err != nil {
		return nil, err
	}
	var out []server.Token
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		hexPart, ok := "", false
		if len(fields) == 2 {
			hexPart, ok = strings.CutPrefix(fields[1], "sha256:")
		}
		raw, err := hex.DecodeString(hexPart)
		if !ok || err != nil || len(raw) != sha256.Size {
			return nil, fmt.Errorf("%s:%d: expected 'NAME sha256:<64 hex digits>' (the hash of the token, never the token)", path, n)
		}
		var t server.Token
		t.Name = fields[0]
		copy(t.SHA256[:], raw)
		out = append(out, t)
	}
	return out, nil
}

func newTokenCmd(e *env) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "new-token NAME --tokens FILE",
		Short: "Create a write token: its hash is appended to FILE, the token printed once",
		Example: `  trustmap serve new-token ci --tokens tokens.txt
  curl -H "Authorization: Bearer $TOKEN" ...`,
		Args: cli.ExactArgs("the NAME of the token's holder"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if strings.ContainsAny(name, " \t\n#") || !printableName(name) {
				return cli.Usage(fmt.Errorf("new-token: expected a NAME without spaces, # or control characters (such as ci or alice), got %s", safetext.Quote(name)))
			}
			raw := make([]byte, 32)
			if _, err := e.Rand.Read(raw); err != nil {
				return err
			}
			token := "tmk_" + base64.RawURLEncoding.EncodeToString(raw)
			existing, err := os.ReadFile(file)
			if err != nil && !errors.Is(err, os.ErrNotExist) {
				return cli.Usage(err)
			}
			if len(existing) > 0 && !bytes.HasSuffix(existing, []byte("\n")) {
				existing = append(existing, '\n')
			}
			sum := sha256.Sum256([]byte(token))
			line := fmt.Sprintf("%s sha256:%s\n", name, hex.EncodeToString(sum[:]))
			if err := atomicfile.WriteFile(file, append(existing, line...), 0o600); err != nil {
				return cli.Usage(err)
			}
			fmt.Fprintln(e.Stdout, token)
			fmt.Fprintf(e.Stderr, "added %s to %s (only its hash is stored; keep the token secret)\n", name, file)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "tokens", "", "tokens file to append to")
	cmd.MarkFlagRequired("tokens")
	return cmd
}

func printableName(s string) bool {
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return false
		}
	}
	return s != ""
}
