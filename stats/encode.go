package stats

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// EncodeJSON is the report's body: its JSON and a newline. The same report
// always gives the same bytes.
func EncodeJSON(r Report) ([]byte, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("statistics: encode the report: %w", err)
	}
	return append(b, '\n'), nil
}

// EncodeCSV is the report as CSV, one figure a row: "figure,value", the
// figure a path into the JSON ("measures.job_within_183d.rate",
// "measures.enrolled.by_status.0.count"), a suppressed figure's value
// "suppressed" and an undefined one's empty.
func EncodeCSV(r Report) ([]byte, error) {
	return figuresCSV(r, "the report")
}

// figuresCSV writes v, whose JSON is a document of figures (a report, a
// comparison), as "figure,value" rows; what names v in an error.
func figuresCSV(v any, what string) ([]byte, error) {
	js, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("statistics: encode %s: %w", what, err)
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = false
	if err := w.Write([]string{"figure", "value"}); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := flatten(dec, "", w); err != nil {
		return nil, fmt.Errorf("statistics: %s as CSV: %w", what, err)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return nil, fmt.Errorf("statistics: %s as CSV: %w", what, err)
	}
	return buf.Bytes(), nil
}

// flatten writes the JSON value at the decoder's head as rows under path.
func flatten(dec *json.Decoder, path string, w *csv.Writer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	join := func(p, k string) string {
		if p == "" {
			return k
		}
		return p + "." + k
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			first := true
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := kt.(string)
				if first && key == "suppressed" {
					// {"suppressed": true}: the figure is suppressed.
					if _, err := dec.Token(); err != nil {
						return err
					}
					if _, err := dec.Token(); err != nil && err != io.EOF {
						return err
					}
					return w.Write([]string{path, SuppressedCSV})
				}
				first = false
				if err := flatten(dec, join(path, key), w); err != nil {
					return err
				}
			}
			_, err := dec.Token()
			return err
		case '[':
			for i := 0; dec.More(); i++ {
				if err := flatten(dec, join(path, strconv.Itoa(i)), w); err != nil {
					return err
				}
			}
			_, err := dec.Token()
			return err
		}
		return fmt.Errorf("unexpected %v", t)
	case nil:
		return w.Write([]string{path, ""})
	case json.Number:
		return w.Write([]string{path, t.String()})
	case bool:
		return w.Write([]string{path, strconv.FormatBool(t)})
	case string:
		return w.Write([]string{path, t})
	}
	return fmt.Errorf("unexpected token %T", tok)
}
