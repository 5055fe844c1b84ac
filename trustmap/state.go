package trustmap

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hallmark-build/hallmark/attest"
	"github.com/hallmark-build/hallmark/internal/canonical"
)

// SerialStateSchema identifies the verifier's serial state format.
const SerialStateSchema = "https://hallmark.build/trust-state/v1"

// Kinds of signed documents whose serials a SerialState remembers.
const (
	SerialRoots  = "roots"
	SerialPolicy = "policy"
)

// SerialState remembers the highest serial a verifier accepted for each
// kind of signed document (roots map, policy) and each set of signing keys,
// so that an older document (from before a revocation, or with fewer
// restrictions) is refused once a newer one was seen, without the verifier
// passing --roots-min-serial by hand.
type SerialState struct {
	Schema string `json:"schema"`
	// Serials maps "KIND KEYS" (KEYS: the sorted fingerprints of the keys
	// the document was checked against, comma-separated) to the highest
	// serial accepted.
	Serials map[string]uint64 `json:"serials"`
}

// NewSerialState returns an empty state.
func NewSerialState() *SerialState {
	return &SerialState{Schema: SerialStateSchema, Serials: map[string]uint64{}}
}

// ParseSerialState decodes a state file.
func ParseSerialState(b []byte) (*SerialState, error) {
	var s SerialState
	if err := decodeDocument(b, &s, SerialStateSchema, MaxTOFUBytes, ErrMalformedSerialState); err != nil {
		return nil, err
	}
	if s.Serials == nil {
		s.Serials = map[string]uint64{}
	}
	return &s, nil
}

// Marshal encodes the state reproducibly.
func (s *SerialState) Marshal() ([]byte, error) { return canonical.JSON(s) }

func serialKey(kind string, keys []*attest.PublicKey) string {
	fps := make([]string, len(keys))
	for i, k := range keys {
		fps[i] = k.Fingerprint
	}
	slices.Sort(fps)
	return kind + " " + strings.Join(fps, ",")
}

// Min is the last serial accepted for documents of kind checked against
// any of keys (0 when none was): the highest serial recorded for a set of
// keys that shares a key with these. A verifier that adds a key (rotating
// from A to A and B) keeps refusing the maps A signed before; a set of keys
// of its own starts from 0.
func (s *SerialState) Min(kind string, keys []*attest.PublicKey) uint64 {
	want := map[string]bool{}
	for _, k := range keys {
		want[k.Fingerprint] = true
	}
	var out uint64
	for k, serial := range s.Serials {
		kk, fps, ok := strings.Cut(k, " ")
		if !ok || kk != kind || serial <= out {
			continue
		}
		if slices.ContainsFunc(strings.Split(fps, ","), func(fp string) bool { return want[fp] }) {
			out = serial
		}
	}
	return out
}

// Accept records serial as accepted; it reports whether the state changed.
// Serials never go down.
func (s *SerialState) Accept(kind string, keys []*attest.PublicKey, serial uint64) (bool, error) {
	if len(keys) == 0 {
		return false, fmt.Errorf("serial state: %s without keys: an unsigned document's serial proves nothing", kind)
	}
	k := serialKey(kind, keys)
	if serial <= s.Serials[k] {
		return false, nil
	}
	s.Serials[k] = serial
	return true, nil
}
