//go:build e2e

package server

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallmark-build/hallmark/internal/pgtest"
)

// BenchmarkGateVsBatchPostgres is the load test with the two replicas on
// one real PostgreSQL database; the CPU time of the PostgreSQL server
// (postmaster, background processes and the replicas' backends) counts as
// the service's.
//
//	go test -tags e2e ./trustmap/server -run XXX -bench GateVsBatchPostgres -benchtime 2x
func BenchmarkGateVsBatchPostgres(b *testing.B) {
	pg := pgtest.Start(b)
	in := makeLoadInputs(b, 1000)
	benchGateVsBatch(b, in, func() (string, func() time.Duration) {
		uri := pg.NewDatabase(b)
		postmaster := postmasterPID(b, uri)
		return uri, func() time.Duration { return postgresCPU(b, postmaster) }
	})
}

// postmasterPID is the parent of the backend serving a connection to uri.
func postmasterPID(b *testing.B, uri string) int {
	b.Helper()
	db, err := sql.Open("pgx", uri)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var backend int
	if err := db.QueryRowContext(context.Background(), `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		b.Fatal(err)
	}
	st, err := procStat(backend)
	if err != nil {
		b.Fatal(err)
	}
	return st.ppid
}

type procStatus struct {
	ppid int
	// cpu is the process's user and system time; waited is its reaped
	// children's.
	cpu, waited time.Duration
}

// procStat reads /proc/PID/stat.
func procStat(pid int) (procStatus, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStatus{}, err
	}
	// Fields after the command name, which is in parentheses: state (3),
	// ppid (4), ... utime (14), stime (15), cutime (16), cstime (17).
	i := strings.LastIndexByte(string(raw), ')')
	f := strings.Fields(string(raw[i+1:]))
	if i < 0 || len(f) < 15 {
		return procStatus{}, fmt.Errorf("/proc/%d/stat: unexpected %q", pid, raw)
	}
	n := func(k int) int64 { v, _ := strconv.ParseInt(f[k-3], 10, 64); return v }
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	ppid, _ := strconv.Atoi(f[1])
	return procStatus{ppid: ppid, cpu: time.Duration(n(14)+n(15)) * tick, waited: time.Duration(n(16)+n(17)) * tick}, nil
}

// postgresChildren lists the postmaster's child processes.
func postgresChildren(postmaster int) []int {
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	var out []int
	for _, d := range dirs {
		pid, _ := strconv.Atoi(filepath.Base(d))
		if st, err := procStat(pid); err == nil && st.ppid == postmaster {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

// postgresCPU is the CPU time the PostgreSQL server has used: the
// postmaster's, its live children's, and its ended children's. It first
// waits (a bounded time) for the backends of closed connections to end, so
// that their time is counted once.
func postgresCPU(b *testing.B, postmaster int) time.Duration {
	b.Helper()
	children := postgresChildren(postmaster)
	for range 100 {
		time.Sleep(20 * time.Millisecond)
		again := postgresChildren(postmaster)
		if slices.Equal(again, children) {
			break
		}
		children = again
	}
	pm, err := procStat(postmaster)
	if err != nil {
		b.Fatal(err)
	}
	total := pm.cpu + pm.waited
	for _, pid := range children {
		if st, err := procStat(pid); err == nil {
			total += st.cpu
		}
	}
	return total
}
