package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/surgeload/surge/internal/metrics"
)

// A trend's histogram has thousands of buckets and most are empty, so deltas
// travel in a sparse binary form: each non-empty bucket as (gap to the
// previous one, count), in varints. One second of http_req_duration is then
// tens of bytes instead of tens of kilobytes of JSON.

// EncodeDeltas encodes deltas for a Report.
func EncodeDeltas(ds []metrics.Delta) []byte {
	b := binary.AppendUvarint(nil, uint64(len(ds)))
	for _, d := range ds {
		b = appendString(b, d.Metric)
		b = append(b, byte(d.Type), byte(d.Contains))
		b = binary.AppendUvarint(b, uint64(len(d.Tags)))
		for _, t := range d.Tags {
			b = appendString(appendString(b, t.Key), t.Value)
		}
		b = binary.AppendVarint(b, d.Count)
		b = appendFloat(appendFloat(appendFloat(b, d.Sum), d.Min), d.Max)
		b = binary.AppendVarint(b, d.Nonzero)
		b = appendFloat(b, d.Last)
		b = appendHist(b, d.Hist)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

func appendHist(b []byte, h *hdr.Snapshot) []byte {
	if h == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, h.LowestTrackableValue)
	b = binary.AppendVarint(b, h.HighestTrackableValue)
	b = binary.AppendVarint(b, h.SignificantFigures)
	b = binary.AppendUvarint(b, uint64(len(h.Counts)))
	nz := 0
	for _, c := range h.Counts {
		if c != 0 {
			nz++
		}
	}
	b = binary.AppendUvarint(b, uint64(nz))
	prev := -1
	for i, c := range h.Counts {
		if c != 0 {
			b = binary.AppendUvarint(b, uint64(i-prev))
			b = binary.AppendVarint(b, c)
			prev = i
		}
	}
	return b
}

// wireDelta is a decoded delta whose histogram is still sparse.
type wireDelta struct {
	metrics.Delta // Hist is nil
	geo           geometry
	idx           []int32
	cnt           []int64
}

// geometry is what identifies a histogram's bucket layout.
type geometry struct {
	lo, hi, sig int64
	n           int
}

// dense returns the delta with its histogram expanded.
func (w *wireDelta) dense() metrics.Delta {
	d := w.Delta
	if w.geo.n > 0 {
		counts := make([]int64, w.geo.n)
		for i, ix := range w.idx {
			counts[ix] += w.cnt[i]
		}
		d.Hist = &hdr.Snapshot{LowestTrackableValue: w.geo.lo, HighestTrackableValue: w.geo.hi, SignificantFigures: w.geo.sig, Counts: counts}
	}
	return d
}

// DecodeDeltas decodes EncodeDeltas' output.
func DecodeDeltas(b []byte) ([]metrics.Delta, error) {
	ws, err := decodeWire(b)
	if err != nil {
		return nil, err
	}
	out := make([]metrics.Delta, len(ws))
	for i := range ws {
		out[i] = ws[i].dense()
	}
	return out, nil
}

var errShort = errors.New("truncated delta")

// reader reads the encoding, remembering the first error.
type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) float() float64 {
	if len(r.b) < 8 {
		r.fail()
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
	r.b = r.b[8:]
	return v
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errShort
	}
	r.b = nil
}

// maxBuckets bounds a decoded histogram's size (the registry's histograms
// have a few thousand buckets).
const maxBuckets = 1 << 20

func decodeWire(b []byte) ([]wireDelta, error) {
	r := &reader{b: b}
	n := r.uvarint()
	if n > uint64(len(b)) {
		return nil, fmt.Errorf("decoding deltas: %w", errShort)
	}
	out := make([]wireDelta, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		var w wireDelta
		w.Metric = r.string()
		w.Type, w.Contains = metrics.Type(r.byte()), metrics.ValueType(r.byte())
		nt := r.uvarint()
		for j := uint64(0); j < nt && r.err == nil; j++ {
			w.Tags = append(w.Tags, metrics.Tag{Key: r.string(), Value: r.string()})
		}
		w.Count = r.varint()
		w.Sum, w.Min, w.Max = r.float(), r.float(), r.float()
		w.Nonzero = r.varint()
		w.Last = r.float()
		if r.byte() == 1 {
			r.hist(&w)
		}
		out = append(out, w)
	}
	if r.err != nil {
		return nil, fmt.Errorf("decoding deltas: %w", r.err)
	}
	return out, nil
}

func (r *reader) hist(w *wireDelta) {
	w.geo = geometry{lo: r.varint(), hi: r.varint(), sig: r.varint(), n: int(r.uvarint())}
	nz := r.uvarint()
	if w.geo.n <= 0 || w.geo.n > maxBuckets || nz > uint64(w.geo.n) {
		r.fail()
		return
	}
	w.idx, w.cnt = make([]int32, 0, nz), make([]int64, 0, nz)
	at := -1
	for k := uint64(0); k < nz && r.err == nil; k++ {
		at += int(r.uvarint())
		if at < 0 || at >= w.geo.n {
			r.fail()
			return
		}
		w.idx = append(w.idx, int32(at))
		w.cnt = append(w.cnt, r.varint())
	}
}

// Merger sums the deltas of many workers per series, then merges one delta
// per series into a registry. Histogram counts add exactly, so this is the
// same as merging every worker's delta, at a fraction of the cost: the
// registry imports one histogram per series per second, not one per worker.
type Merger struct {
	acc   map[string]*seriesAcc
	order []*seriesAcc
}

type seriesAcc struct {
	d      metrics.Delta
	geo    geometry
	counts []int64
	used   bool
}

// NewMerger returns an empty merger.
func NewMerger() *Merger { return &Merger{acc: map[string]*seriesAcc{}} }

// Add decodes an encoded batch of deltas and adds it. skip, if not nil,
// leaves out metrics by name.
func (m *Merger) Add(b []byte, skip func(name string) bool) error {
	_, err := m.decodeAdd(b, skip)
	return err
}

// decodeAdd is Add, returning the decoded deltas.
func (m *Merger) decodeAdd(b []byte, skip func(name string) bool) ([]wireDelta, error) {
	ws, err := decodeWire(b)
	if err != nil {
		return nil, err
	}
	for i := range ws {
		if skip == nil || !skip(ws[i].Metric) {
			m.add(&ws[i])
		}
	}
	return ws, nil
}

func seriesKeyOf(d *metrics.Delta) string {
	var sb strings.Builder
	sb.WriteString(d.Metric)
	for _, t := range d.Tags {
		sb.WriteByte(0)
		sb.WriteString(t.Key)
		sb.WriteByte(1)
		sb.WriteString(t.Value)
	}
	return sb.String()
}

func (m *Merger) add(w *wireDelta) {
	k := seriesKeyOf(&w.Delta)
	if w.geo.n > 0 { // histograms of different layouts are merged apart
		k += fmt.Sprintf("\x02%v", w.geo)
	}
	a := m.acc[k]
	if a == nil {
		a = &seriesAcc{}
		m.acc[k] = a
		m.order = append(m.order, a)
	}
	if !a.used {
		a.d = w.Delta
		a.used = true
	} else {
		a.combine(&w.Delta)
	}
	if w.geo.n > 0 {
		if a.counts == nil {
			a.geo, a.counts = w.geo, make([]int64, w.geo.n)
		}
		for i, ix := range w.idx {
			a.counts[ix] += w.cnt[i]
		}
	}
}

func (a *seriesAcc) combine(d *metrics.Delta) {
	if d.Count == 0 {
		return
	}
	if a.d.Count == 0 || d.Min < a.d.Min {
		a.d.Min = d.Min
	}
	if a.d.Count == 0 || d.Max > a.d.Max {
		a.d.Max = d.Max
	}
	a.d.Count += d.Count
	a.d.Sum += d.Sum
	a.d.Nonzero += d.Nonzero
	a.d.Last = d.Last
}

// Flush merges what was added since the last flush into reg.
func (m *Merger) Flush(reg *metrics.Registry) error {
	var errs []error
	for _, a := range m.order {
		if !a.used {
			continue
		}
		d := a.d
		if a.counts != nil {
			d.Hist = &hdr.Snapshot{LowestTrackableValue: a.geo.lo, HighestTrackableValue: a.geo.hi, SignificantFigures: a.geo.sig, Counts: a.counts}
		}
		if err := reg.MergeDelta(d); err != nil {
			errs = append(errs, err)
		}
		a.used = false
		clear(a.counts)
	}
	return errors.Join(errs...)
}
