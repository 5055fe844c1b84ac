package main

import (
	"context"

	"github.com/hallmark-build/hallmark/trustmap"
	"github.com/hallmark-build/hallmark/trustmap/store"
	"github.com/hallmark-build/hallmark/trustmap/tofufile"
)

// updateTOFU runs one read-modify-write of pkg's pin in the store at loc: a
// JSON file (locked), or a database URI (sqlite:PATH, postgres://...), the
// store `trustmap serve` uses, where the database serialises writers.
func updateTOFU(ctx context.Context, loc, pkg string, fn func(cur *trustmap.TOFUEntry) (*trustmap.TOFUEntry, error)) error {
	if !store.IsURI(loc) {
		return tofufile.Open(loc).UpdatePackage(ctx, pkg, fn)
	}
	db, err := store.Open(ctx, loc)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.UpdatePackage(ctx, pkg, fn)
}
