package server

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"

	"github.com/hallmark-build/hallmark/internal/provtest"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// uploads makes n signed uploads of distinct artifacts; pkg(i) names the
// package and repo(i) the source repository of upload i.
func uploads(t testing.TB, n int, pkg func(int) string, repo func(int) string) [][]byte {
	t.Helper()
	key, err := provtest.Signer()
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]byte, n)
	for i := range n {
		artifact := fmt.Sprintf("app %d\n", i)
		d := provtest.Digest([]byte(artifact))
		params := provtest.Parameters()
		params["repository"] = repo(i)
		prov, err := provtest.Provenance(key, "app.tgz", d, params)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = mustJSON(t, UploadRequest{Package: pkg(i), Provenance: string(prov),
			Artifacts: []ArtifactRef{{Name: "app.tgz", Digest: map[string]string{"sha256": d}}}})
	}
	return out
}

// postAll posts every body concurrently, alternating between the replicas,
// and returns the status codes.
func postAll(t testing.TB, urls []string, bodies [][]byte) []int {
	codes := make([]int, len(bodies))
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = do(t, "POST", urls[i%len(urls)]+"/v1/verify", testToken, b).Code
		}()
	}
	wg.Wait()
	return codes
}

// testReplicas runs two service replicas over one database (open returns
// a new handle on it each time): concurrent first uploads of one new
// package make exactly one pin; uploads of n packages make n; nothing is
// lost from the archive.
func testReplicas(t *testing.T, open func(t *testing.T) *store.DB, n int) {
	trust := testTrust(t)
	trust.Policy, trust.PolicyData = nil, nil
	var urls []string
	var first *store.DB
	for range 2 {
		st := open(t)
		if first == nil {
			first = st
		}
		urls = append(urls, newTestServer(t, trust, st, Options{}).URL)
	}
	ctx := context.Background()
	count := func(q string, args ...any) int {
		var c int
		if err := first.SQL().QueryRowContext(ctx, q, args...).Scan(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	// n first uploads of one new package, from two repositories: exactly
	// one pin, and exactly the uploads from the winner's repository pass.
	bodies := uploads(t, n, func(int) string { return "same" }, func(i int) string { return fmt.Sprintf("https://git.example.com/app%d", i%2) })
	codes := postAll(t, urls, bodies)
	pin, err := first.GetPin(ctx, "same")
	if err != nil {
		t.Fatal(err)
	}
	winner := 0
	if string(pin.Entry.Parameters["/repository"]) == `"https://git.example.com/app1"` {
		winner = 1
	}
	for i, c := range codes {
		want := http.StatusOK
		if i%2 != winner {
			want = http.StatusUnprocessableEntity
		}
		if c != want {
			t.Errorf("upload %d (repository %d, pinned %d): %d, want %d", i, i%2, winner, c, want)
		}
	}
	if got := count(`SELECT COUNT(*) FROM pins WHERE package = 'same'`); got != 1 {
		t.Fatalf("%d pins for one package", got)
	}
	if got := count(`SELECT COUNT(*) FROM audit WHERE event = 'first-use' AND package = 'same'`); got != 1 {
		t.Fatalf("%d first-use audit entries for one package", got)
	}
	if got := count(`SELECT COUNT(*) FROM records WHERE package = 'same'`); got != n {
		t.Fatalf("%d records for %d uploads", got, n)
	}

	// n different new packages: n pins.
	bodies = uploads(t, n, func(i int) string { return fmt.Sprintf("pkg-%d", i) }, func(int) string { return "https://git.example.com/app" })
	for i, c := range postAll(t, urls, bodies) {
		if c != http.StatusOK {
			t.Errorf("package %d: %d", i, c)
		}
	}
	if got := count(`SELECT COUNT(*) FROM pins WHERE package LIKE 'pkg-%'`); got != n {
		t.Fatalf("%d pins for %d packages", got, n)
	}
	// Re-posting everything at once returns the stored verdicts.
	for i, c := range postAll(t, urls, bodies) {
		if c != http.StatusOK {
			t.Errorf("re-post %d: %d", i, c)
		}
	}
	if got := count(`SELECT COUNT(*) FROM records WHERE package LIKE 'pkg-%'`); got != n {
		t.Fatalf("%d records after re-posting %d uploads", got, n)
	}
}

func TestReplicasSQLite(t *testing.T) {
	path := "sqlite:" + filepath.Join(t.TempDir(), "gate.db")
	testReplicas(t, func(t *testing.T) *store.DB {
		st, err := store.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}, 200)
}
