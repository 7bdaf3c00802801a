package metrics

import (
	"sort"
	"strings"
)

// Tag is one key=value pair on a sample.
type Tag struct{ Key, Value string }

// TagSet is an immutable, sorted, interned set of tags. Two equal sets from
// the same Registry are the same pointer, so a TagSet is a cheap map key.
type TagSet struct {
	tags []Tag
	key  string
}

// Tags returns the pairs in key order. The slice must not be modified.
func (t *TagSet) Tags() []Tag {
	if t == nil {
		return nil
	}
	return t.tags
}

// Get returns the value of key and whether it is set.
func (t *TagSet) Get(key string) (string, bool) {
	if t == nil {
		return "", false
	}
	for _, p := range t.tags {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}

// Map returns the tags as a new map.
func (t *TagSet) Map() map[string]string {
	m := make(map[string]string, len(t.Tags()))
	for _, p := range t.Tags() {
		m[p.Key] = p.Value
	}
	return m
}

// String renders the set as k6 does in a sub-metric name: "{k:v,k2:v2}".
func (t *TagSet) String() string {
	if t == nil || len(t.tags) == 0 {
		return ""
	}
	return "{" + t.key + "}"
}

// Contains reports whether every tag of sub is in t.
func (t *TagSet) Contains(sub []Tag) bool {
	for _, want := range sub {
		if v, ok := t.Get(want.Key); !ok || v != want.Value {
			return false
		}
	}
	return true
}

func canonical(tags []Tag) ([]Tag, string) {
	out := make([]Tag, 0, len(tags))
	seen := make(map[string]int, len(tags))
	for _, p := range tags {
		if p.Value == "" {
			continue
		}
		if i, ok := seen[p.Key]; ok {
			out[i].Value = p.Value // last one wins
			continue
		}
		seen[p.Key] = len(out)
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	var b strings.Builder
	for i, p := range out {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(p.Key)
		b.WriteByte(':')
		b.WriteString(p.Value)
	}
	return out, b.String()
}

// Intern returns the registry's TagSet for tags. Empty values are dropped;
// for a repeated key the last value wins. It takes a lock and builds a key,
// so hot paths call it once and keep the result.
func (r *Registry) Intern(tags ...Tag) *TagSet {
	sorted, key := canonical(tags)
	r.tagMu.Lock()
	defer r.tagMu.Unlock()
	if t, ok := r.tagSets[key]; ok {
		return t
	}
	t := &TagSet{tags: sorted, key: key}
	r.tagSets[key] = t
	return t
}

// With returns base plus extra tags (extra wins), interned.
func (r *Registry) With(base *TagSet, extra ...Tag) *TagSet {
	all := make([]Tag, 0, len(base.Tags())+len(extra))
	all = append(all, base.Tags()...)
	all = append(all, extra...)
	return r.Intern(all...)
}
