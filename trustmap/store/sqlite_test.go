package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hallmark-build/hallmark/trustmap/store"
)

func openSQLite(t *testing.T) store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "gate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite(t *testing.T) { testStore(t, openSQLite) }

// Two handles on one SQLite file behave as two replicas of one database.
func TestSQLiteTwoHandles(t *testing.T) {
	path := "sqlite:" + filepath.Join(t.TempDir(), "gate.db")
	var replicas []store.Store
	for range 2 {
		s, err := store.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		replicas = append(replicas, s)
	}
	concurrentPins(t, replicas, 100)
}

func TestOpenURIs(t *testing.T) {
	for _, uri := range []string{"", "gate.db", "mysql://x", "sqlite:", "file:gate.db"} {
		if _, err := store.Open(context.Background(), uri); !errors.Is(err, store.ErrBadURI) {
			t.Errorf("Open(%q): %v, want ErrBadURI", uri, err)
		}
	}
	if _, err := store.Open(context.Background(), "postgres://alice:s3cret@127.0.0.1:1/db?connect_timeout=1"); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("postgres without a server: %v", err)
	}
	for uri, want := range map[string]bool{"sqlite:x": true, "postgres://h/db": true, "postgresql://h/db": true, "tofu.json": false, "./sqlite:x": false} {
		if store.IsURI(uri) != want {
			t.Errorf("IsURI(%q) != %v", uri, want)
		}
	}
}
