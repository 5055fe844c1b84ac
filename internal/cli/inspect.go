package cli

import "github.com/hallmark-build/hallmark/internal/doctype"

// ReadDocument reads the document an inspect command shows ("-" is standard
// input) and tells what it is, without verifying anything.
func (e *Env) ReadDocument(path string, limit int64) ([]byte, doctype.Doc, doctype.Shown, error) {
	b, err := e.ReadInput(path, limit)
	if err != nil {
		return nil, doctype.Doc{}, doctype.Shown{}, err
	}
	d := doctype.Identify(b)
	return b, d, doctype.Show(path, d, b), nil
}

// WriteShown prints an inspected document as text (escaped) or JSON.
func (e *Env) WriteShown(s doctype.Shown, format string) error {
	if format == "json" {
		return WriteJSON(e.Stdout, s)
	}
	s.WriteText(e.Stdout)
	return nil
}
