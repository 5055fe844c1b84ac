//go:build e2e

package server

import (
	"context"
	"testing"

	"github.com/hallmark-build/hallmark/internal/pgtest"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// Two replicas of the service on one real PostgreSQL database.
func TestReplicasPostgres(t *testing.T) {
	pg := pgtest.Start(t)
	uri := pg.NewDatabase(t)
	testReplicas(t, func(t *testing.T) *store.DB {
		st, err := store.Open(context.Background(), uri)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}, 200)
}
