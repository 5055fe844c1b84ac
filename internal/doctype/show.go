package doctype

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/hallmark-build/hallmark/internal/safetext"
)

// Unverified is the line both inspect commands start with.
const Unverified = "UNVERIFIED: this shows what the file says; no signature, validity window or digest was checked."

// Shown is the JSON form of an inspected document.
type Shown struct {
	File        string          `json:"file"`
	Kind        string          `json:"kind"`
	Description string          `json:"description"`
	Verified    bool            `json:"verified"`
	ReadBy      string          `json:"readBy,omitempty"`
	PayloadType string          `json:"payloadType,omitempty"`
	KeyIDs      []string        `json:"keyids,omitempty"`
	Predicate   string          `json:"predicateType,omitempty"`
	Facts       []Fact          `json:"facts,omitempty"`
	Document    json.RawMessage `json:"document,omitempty"`
	Lines       []Shown         `json:"lines,omitempty"`
}

// Fact is one line of a summary: "entries: 3".
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Show builds the inspected view of d read from b (the file's bytes).
func Show(file string, d Doc, b []byte) Shown {
	s := Shown{File: file, Kind: d.Kind.ID(), Description: d.Kind.String(), ReadBy: d.Kind.ReadBy(),
		PayloadType: d.PayloadType, KeyIDs: d.KeyIDs, Predicate: d.PredicateType}
	doc := b
	if d.Payload != nil {
		doc = d.Payload
	}
	switch d.Kind {
	case PublicKey, PrivateKey, NotJSON:
		doc = nil // never echo key material or arbitrary bytes
	case ProvenanceLines:
		doc = nil
		i := 0
		for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
			if l = bytes.TrimSpace(l); len(l) == 0 {
				continue
			}
			s.Lines = append(s.Lines, Show(fmt.Sprintf("%s line %d", file, i+1), d.Lines[i], l))
			i++
		}
	}
	var c bytes.Buffer
	if doc != nil && json.Compact(&c, doc) == nil {
		s.Document = c.Bytes()
	}
	return s
}

// WriteText prints s for a terminal, every input string escaped.
func (s Shown) WriteText(w io.Writer) {
	fmt.Fprintf(w, "%s: %s\n%s\n", safetext.Term(s.File), s.Description, Unverified)
	s.writeBody(w, "  ")
}

func (s Shown) writeBody(w io.Writer, indent string) {
	if s.ReadBy != "" {
		fmt.Fprintf(w, "%sread by:      %s\n", indent, s.ReadBy)
	}
	if s.PayloadType != "" {
		fmt.Fprintf(w, "%spayloadType:  %s\n", indent, safetext.Term(s.PayloadType))
		for _, k := range s.KeyIDs {
			if k == "" {
				k = "(none)"
			}
			fmt.Fprintf(w, "%ssignature keyid (a hint, not verified): %s\n", indent, safetext.Term(k))
		}
	}
	if s.Predicate != "" {
		fmt.Fprintf(w, "%spredicateType: %s\n", indent, safetext.Term(s.Predicate))
	}
	for _, f := range s.Facts {
		fmt.Fprintf(w, "%s%s: %s\n", indent, f.Name, safetext.Term(f.Value))
	}
	if len(s.Document) > 0 {
		var pretty bytes.Buffer
		if json.Indent(&pretty, s.Document, indent+"  ", "  ") == nil {
			fmt.Fprintf(w, "%scontent:\n%s  %s\n", indent, indent, safetext.JSON(pretty.String()))
		}
	}
	for _, l := range s.Lines {
		fmt.Fprintf(w, "\n%s%s: %s\n", indent, safetext.Term(l.File), l.Description)
		l.writeBody(w, indent+"  ")
	}
}
