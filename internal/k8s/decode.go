package k8s

import (
	"bytes"
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// Decode reads a stream written by WriteYAML back into the typed objects,
// strictly: an unknown or duplicated field is an error, as it would be
// for kubectl apply's server-side validation. The Job with the
// component=worker label is the workers', the other the master's.
func Decode(data []byte) (*Manifests, error) {
	m := &Manifests{}
	for i, doc := range bytes.Split(data, []byte("\n---\n")) {
		doc = bytes.TrimPrefix(bytes.TrimSpace(doc), []byte("---\n"))
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		if err := m.decodeDoc(doc); err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
	}
	if m.ConfigMap == nil || m.Service == nil || m.Master == nil || m.Workers == nil {
		return nil, fmt.Errorf("want a ConfigMap, a Service and two Jobs, got %d objects", len(m.Objects()))
	}
	return m, nil
}

func (m *Manifests) decodeDoc(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	switch tm.Kind {
	case "Secret":
		return strict(doc, &m.Secret)
	case "ConfigMap":
		return strict(doc, &m.ConfigMap)
	case "Service":
		return strict(doc, &m.Service)
	case "Job":
		var j *batchv1.Job
		if err := strict(doc, &j); err != nil {
			return err
		}
		if j.Spec.Template.Labels[LabelComponent] == "worker" {
			return set(&m.Workers, j)
		}
		return set(&m.Master, j)
	}
	return fmt.Errorf("unexpected kind %q", tm.Kind)
}

// strict decodes doc into a new *T stored in *dst, refusing a second one.
func strict[T any](doc []byte, dst **T) error {
	var v T
	if err := yaml.UnmarshalStrict(doc, &v); err != nil {
		return err
	}
	return set(dst, &v)
}

func set[T any](dst **T, v *T) error {
	if *dst != nil {
		return fmt.Errorf("a second %T", v)
	}
	*dst = v
	return nil
}
