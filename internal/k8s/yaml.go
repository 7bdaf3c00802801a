package k8s

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// WriteYAML writes objs as one multi-document YAML stream, each document
// after a "---" line, as kubectl apply -f - reads it. The empty status
// the typed objects carry is left out: it is the API server's to fill.
func WriteYAML(w io.Writer, objs []any) error {
	for _, obj := range objs {
		b, err := encode(obj)
		if err != nil {
			return fmt.Errorf("encoding %T: %w", obj, err)
		}
		if _, err := fmt.Fprintf(w, "---\n%s", b); err != nil {
			return err
		}
	}
	return nil
}

// encode goes through JSON, as sigs.k8s.io/yaml.Marshal does, dropping
// the top-level status on the way; raw messages keep numbers exact.
func encode(obj any) ([]byte, error) {
	j, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(j, &fields); err != nil {
		return nil, err
	}
	delete(fields, "status")
	if j, err = json.Marshal(fields); err != nil {
		return nil, err
	}
	return yaml.JSONToYAML(j)
}

// shortDuration writes 5m rather than time.Duration's 5m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
