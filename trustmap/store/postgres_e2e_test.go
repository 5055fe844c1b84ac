//go:build e2e

package store_test

import (
	"context"
	"testing"

	"github.com/hallmark-build/hallmark/internal/pgtest"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// The same suite as SQLite, against a real PostgreSQL server: a fresh
// database per subtest.
func TestPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	testStore(t, func(t *testing.T) store.Store {
		s, err := store.Open(context.Background(), pg.NewDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
	t.Run("two replicas, 200 first uses", func(t *testing.T) {
		uri := pg.NewDatabase(t)
		var replicas []store.Store
		for range 2 {
			s, err := store.Open(context.Background(), uri)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			replicas = append(replicas, s)
		}
		concurrentPins(t, replicas, 200)
	})
}
