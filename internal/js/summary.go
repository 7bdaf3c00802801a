package js

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"github.com/grafana/sobek"
)

// HasHandleSummary reports whether the script exports handleSummary.
func (s *Script) HasHandleSummary() bool { return s.exports["handleSummary"] }

// HandleSummary calls the script's handleSummary(data) with the end
// summary (k6's JSON summary, as written by --summary-export) and writes
// what it returns: the "stdout" and "stderr" keys to those streams, every
// other key to the file it names. It reports false when the script has no
// handleSummary, in which case the caller prints its usual summary (as k6
// does).
func (s *Script) HandleSummary(ctx context.Context, summaryJSON []byte, stdout, stderr io.Writer) (bool, error) {
	if !s.HasHandleSummary() {
		return false, nil
	}
	s.ctlMu.Lock()
	defer s.ctlMu.Unlock()
	ctl := s.ctl
	var data any
	if err := json.Unmarshal(summaryJSON, &data); err != nil {
		return true, fmt.Errorf("handleSummary: reading the summary: %w", err)
	}
	fn, _ := sobek.AssertFunction(ctl.exports.Get("handleSummary"))
	r, err := ctl.callWithTimeout(ctx, s.cfg.InitTimeout, "handleSummary", fn, ctl.rt.ToValue(data))
	if err != nil {
		return true, s.phaseError("handleSummary", err)
	}
	if r == nil || sobek.IsUndefined(r) || sobek.IsNull(r) {
		return true, nil
	}
	o := r.ToObject(ctl.rt)
	for _, k := range o.Keys() {
		v := o.Get(k)
		var b []byte
		if ab, ok := v.Export().(sobek.ArrayBuffer); ok {
			b = ab.Bytes()
		} else {
			b = []byte(v.String())
		}
		switch k {
		case "stdout":
			_, err = stdout.Write(b)
		case "stderr":
			_, err = stderr.Write(b)
		default:
			err = os.WriteFile(k, b, 0o644)
		}
		if err != nil {
			return true, fmt.Errorf("handleSummary: writing %s: %w", k, err)
		}
	}
	return true, nil
}
