package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// The crash tests run the service in a child process (this test binary,
// re-executed) and kill it: between storing a verdict and answering, or at
// an arbitrary moment under load.
const crashChildEnv = "TRUSTMAP_SERVER_TEST_CHILD"

func TestMain(m *testing.M) {
	if mode := os.Getenv(crashChildEnv); mode != "" {
		if err := crashChild(mode); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		os.Exit(0)
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// crashChild serves until killed. Mode "kill-after-store" kills the process
// with SIGKILL after the first verdict is stored, before it is answered.
func crashChild(mode string) error {
	keyPEM, err := os.ReadFile(os.Getenv("CHILD_VSA_KEY"))
	if err != nil {
		return err
	}
	key, err := attest.ParsePrivateKey(keyPEM, nil)
	if err != nil {
		return err
	}
	trust, err := trustWithKey(key)
	if err != nil {
		return err
	}
	trust.Policy, trust.PolicyData = nil, nil
	st, err := store.Open(context.Background(), "sqlite:"+os.Getenv("CHILD_DB"))
	if err != nil {
		return err
	}
	o := Options{Now: func() time.Time { return testAt }, Tokens: []Token{HashToken("ci", testToken)}}
	if mode == "kill-after-store" {
		o.afterStore = func() { syscall.Kill(os.Getpid(), syscall.SIGKILL) }
	}
	s, err := New(trust, st, o)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return http.Serve(ln, s)
}

type child struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

func startChild(t *testing.T, mode, db, keyFile string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashChildEnv+"="+mode, "CHILD_DB="+db, "CHILD_VSA_KEY="+keyFile)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, done: make(chan error, 1)}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("child: %v", err)
	}
	c.url = "http://" + strings.TrimSpace(line)
	go func() { c.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-c.done
	})
	return c
}

func (c *child) waitKilled(t *testing.T) {
	t.Helper()
	select {
	case err := <-c.done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("child ended with %v, expected SIGKILL", err)
		}
		c.done <- err
	case <-time.After(30 * time.Second):
		t.Fatal("child still running")
	}
}

func vsaKeyFile(t testing.TB) (*attest.PrivateKey, string) {
	key, err := attest.GenerateKey(attest.ECDSAP256, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := key.MarshalUnencrypted()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vsa.key")
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	return key, path
}

// checkComplete verifies that every record in the database is whole: its
// documents, subjects and (for a first use) pin and audit entry.
func checkComplete(t *testing.T, st *store.DB) int {
	t.Helper()
	ctx := context.Background()
	rows, err := st.SQL().QueryContext(ctx, `SELECT id FROM records`)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		rec, err := st.GetRecord(ctx, id)
		if err != nil {
			t.Fatalf("record %s is incomplete: %v", id, err)
		}
		if len(rec.Provenance.Body) == 0 || len(rec.Result.Body) == 0 || len(rec.VSA.Body) == 0 || len(rec.Subjects) == 0 {
			t.Fatalf("record %s is incomplete: %+v", id, rec)
		}
		if rec.Passed && rec.PinVersion > 0 {
			if _, err := st.GetPin(ctx, rec.Package); err != nil {
				t.Fatalf("record %s passed on first use of %s, but no pin: %v", id, rec.Package, err)
			}
		}
	}
	return len(ids)
}

// A crash after the verdict is stored and before it is answered leaves a
// complete record; the upload posted again gets that record, not a new one.
func TestCrashBetweenStoreAndAnswer(t *testing.T) {
	key, keyFile := vsaKeyFile(t)
	db := filepath.Join(t.TempDir(), "gate.db")
	c := startChild(t, "kill-after-store", db, keyFile)
	body := upload(t, "app", "cases/pass-no-policy.intoto.jsonl")
	req, _ := http.NewRequest("POST", c.url+"/v1/verify", strings.NewReader(string(body)))
	req.Header.Set("Authorization", "Bearer "+testToken)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("the child answered %d before dying", resp.StatusCode)
	}
	c.waitKilled(t)

	st, err := store.Open(context.Background(), "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n := checkComplete(t, st); n != 1 {
		t.Fatalf("%d records after the crash, want 1", n)
	}
	trust, err := trustWithKey(key)
	if err != nil {
		t.Fatal(err)
	}
	trust.Policy, trust.PolicyData = nil, nil
	s := newTestServer(t, trust, st, Options{})
	a := do(t, "POST", s.URL+"/v1/verify", testToken, body)
	var v VerifyResponse
	a.decode(t, &v)
	if a.Code != 200 || !v.Replayed || !v.Passed {
		t.Fatalf("re-post after the crash: %d %s", a.Code, a.Body)
	}
	if n := checkComplete(t, st); n != 1 {
		t.Fatalf("%d records after the re-post, want 1", n)
	}
}

// Killed at an arbitrary moment under concurrent uploads, the service
// leaves only complete records.
func TestCrashUnderLoad(t *testing.T) {
	_, keyFile := vsaKeyFile(t)
	db := filepath.Join(t.TempDir(), "gate.db")
	c := startChild(t, "serve", db, keyFile)
	bodies := uploads(t, 60, func(i int) string { return fmt.Sprintf("pkg-%d", i%7) }, func(int) string { return "https://git.example.com/app" })
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest("POST", c.url+"/v1/verify", strings.NewReader(string(b)))
			req.Header.Set("Authorization", "Bearer "+testToken)
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}()
		if i == len(bodies)/2 {
			time.Sleep(20 * time.Millisecond)
			c.cmd.Process.Signal(syscall.SIGKILL)
		}
	}
	wg.Wait()
	c.waitKilled(t)
	st, err := store.Open(context.Background(), "sqlite:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := checkComplete(t, st)
	t.Logf("%d of %d uploads stored before the kill, all complete", n, len(bodies))
}
