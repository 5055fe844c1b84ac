// Package canonical encodes the JSON documents Hallmark writes (answers,
// reviews, roots, trust-on-first-use stores) in one stable form: two-space
// indentation, keys in struct order and maps sorted, no HTML escaping, a
// final newline. Re-encoding a decoded document gives the same bytes, so
// file digests are reproducible.
package canonical

import (
	"bytes"
	"encoding/json"
)

// JSON returns the canonical encoding of v.
func JSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
