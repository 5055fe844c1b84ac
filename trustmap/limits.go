package trustmap

import (
	"fmt"

	"github.com/hallmark-build/hallmark/internal/safetext"
	"github.com/hallmark-build/hallmark/internal/strictjson"
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
// fields), then the document is decoded strictly (internal/strictjson:
// unknown members, duplicate names and case variants refused).
func decodeDocument(b []byte, v any, schema string, limit int, sentinel error) error {
	if len(b) > limit {
		return fmt.Errorf("%w: larger than %d bytes", sentinel, limit)
	}
	var probe struct {
		Schema string `json:"schema"`
	}
	if err := strictjson.UnmarshalOpen(b, &probe); err != nil {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	if probe.Schema != schema {
		return fmt.Errorf("%w: schema: expected %q, got %s", sentinel, schema, safetext.Quote(trunc(probe.Schema)))
	}
	return decodeStrict(b, v, limit, sentinel)
}

// decodeStrict decodes exactly one JSON value with no unknown members,
// duplicate names or case variants.
func decodeStrict(b []byte, v any, limit int, sentinel error) error {
	if len(b) > limit {
		return fmt.Errorf("%w: larger than %d bytes", sentinel, limit)
	}
	if err := strictjson.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %w", sentinel, err)
	}
	return nil
}
