//go:build e2e

package server

import (
	"context"
	"testing"

	"github.com/hallmark-build/hallmark/internal/pgtest"
	"github.com/hallmark-build/hallmark/trustmap/store"
)

// BenchmarkGateVsBatchPostgres is the load test with the two replicas each
// on its own connection pool to one real PostgreSQL database.
//
//	go test -tags e2e ./trustmap/server -run XXX -bench GateVsBatchPostgres -benchtime 1x
func BenchmarkGateVsBatchPostgres(b *testing.B) {
	pg := pgtest.Start(b)
	in := makeLoadInputs(b, 1000)
	benchGateVsBatch(b, in, testTrust(b).Roots, func() func() *store.DB {
		uri := pg.NewDatabase(b)
		return func() *store.DB {
			st, err := store.Open(context.Background(), uri)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { st.Close() })
			return st
		}
	})
}
