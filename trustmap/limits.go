package trustmap

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Limits on untrusted input, all in one place.
const (
	MaxRootsBytes       = 64 << 20 // roots maps can be large (100,000 entries)
	MaxPolicyBytes      = 4 << 20
	MaxCertifiersBytes  = 1 << 20
	MaxRevocationsBytes = 16 << 20
	MaxProvenanceBytes  = 16 << 20 // one provenance file (JSON Lines of envelopes)
	MaxEnvelopesPerFile = 256
	MaxSubjects         = 10000
	MaxTOFUBytes        = 64 << 20
)

// decodeDocument decodes one of our schema-versioned documents: the schema
// is checked first (so a newer version is reported as such, not as unknown
// fields), then the document is decoded strictly.
func decodeDocument(b []byte, v any, schema string, limit int, sentinel error) error {
	if len(b) > limit {
		return fmt.Errorf("%w: larger than %d bytes", sentinel, limit)
	}
	var probe struct {
		Schema string `json:"schema"`
	}
	if err := json.Unmarshal(b, &probe); err != nil {
		return fmt.Errorf("%w: %v", sentinel, err)
	}
	if probe.Schema != schema {
		return fmt.Errorf("%w: schema: expected %q, got %q", sentinel, schema, trunc(probe.Schema))
	}
	return decodeStrict(b, v, limit, sentinel)
}

// decodeStrict decodes exactly one JSON value with no unknown fields.
func decodeStrict(b []byte, v any, limit int, sentinel error) error {
	if len(b) > limit {
		return fmt.Errorf("%w: larger than %d bytes", sentinel, limit)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", sentinel, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("%w: trailing data", sentinel)
	}
	return nil
}
