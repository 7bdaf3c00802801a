package k8s

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Label keys, the recommended ones of Kubernetes.
const (
	LabelName      = "app.kubernetes.io/name"
	LabelInstance  = "app.kubernetes.io/instance"
	LabelComponent = "app.kubernetes.io/component"
)

// Manifests are the objects of one distributed run.
type Manifests struct {
	Secret    *corev1.Secret // nil when an existing Secret is used
	ConfigMap *corev1.ConfigMap
	Service   *corev1.Service
	Master    *batchv1.Job
	Workers   *batchv1.Job
}

// Objects lists the manifests in the order kubectl should create them:
// what the pods refer to first.
func (m *Manifests) Objects() []any {
	var out []any
	if m.Secret != nil {
		out = append(out, m.Secret)
	}
	return append(out, m.ConfigMap, m.Service, m.Master, m.Workers)
}

// Build validates o and makes the manifests.
func Build(o Options) (*Manifests, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	keys := configMapKeys(o.Files)
	m := &Manifests{
		ConfigMap: configMap(&o, keys),
		Service:   service(&o),
		Master:    masterJob(&o, keys),
		Workers:   workersJob(&o),
	}
	if o.TokenSecret == "" {
		m.Secret = secret(&o)
	}
	return m, nil
}

func labels(o *Options, component string) map[string]string {
	l := map[string]string{LabelName: "surge", LabelInstance: o.Name}
	if component != "" {
		l[LabelComponent] = component
	}
	return l
}

func meta(o *Options, name, component string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: labels(o, component)}
}

func secret(o *Options) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: meta(o, o.secretName(), ""),
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{TokenKey: []byte(o.Token)},
	}
}

// configMapKeys gives each file a ConfigMap key: its path with the
// characters a key cannot hold ("/" among them) replaced, made unique.
func configMapKeys(files []File) []string {
	keys := make([]string, len(files))
	used := map[string]bool{}
	for i, f := range files {
		base := strings.Map(func(r rune) rune {
			if r < utf8.RuneSelf && (r == '-' || r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return r
			}
			return '_'
		}, f.Path)
		key := base
		for n := 2; used[key]; n++ {
			key = base + "-" + strconv.Itoa(n)
		}
		used[key] = true
		keys[i] = key
	}
	return keys
}

// configMap holds the files; text goes to data, anything else (not
// UTF-8) to binaryData.
func configMap(o *Options, keys []string) *corev1.ConfigMap {
	cm := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(o, o.configMapName(), ""),
	}
	for i, f := range o.Files {
		if utf8.Valid(f.Data) {
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			cm.Data[keys[i]] = string(f.Data)
			continue
		}
		if cm.BinaryData == nil {
			cm.BinaryData = map[string][]byte{}
		}
		cm.BinaryData[keys[i]] = f.Data
	}
	return cm
}

func service(o *Options) *corev1.Service {
	return &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(o, o.MasterName(), "master"),
		Spec: corev1.ServiceSpec{
			Type:     corev1.ServiceTypeClusterIP,
			Selector: labels(o, "master"),
			Ports: []corev1.ServicePort{{
				Name: "grpc", Port: Port, TargetPort: intstr.FromString("grpc"), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
}

// MasterArgs is the master container's command line after "surge".
func MasterArgs(o *Options) []string {
	args := []string{"master",
		fmt.Sprintf("--listen=:%d", Port),
		"--expect-workers=" + strconv.Itoa(o.Workers),
		"--wait-timeout=" + shortDuration(DefaultWaitTimeout),
	}
	args = append(args, o.RunArgs...)
	return append(args, path.Join(ScriptDir, o.Script))
}

// WorkerArgs is a worker container's command line after "surge".
func WorkerArgs(o *Options) []string {
	return []string{"worker",
		"--master=" + o.MasterAddr(),
		"--connect-timeout=" + shortDuration(DefaultConnectTimeout),
		"--name=worker-$(" + IndexEnv + ")",
	}
}

func masterJob(o *Options, keys []string) *batchv1.Job {
	c := container(o, "master", MasterArgs(o))
	c.Ports = []corev1.ContainerPort{{Name: "grpc", ContainerPort: Port, Protocol: corev1.ProtocolTCP}}
	c.WorkingDir = WorkDir
	for i, f := range o.Files {
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{
			Name: "script", MountPath: path.Join(ScriptDir, f.Path), SubPath: keys[i], ReadOnly: true,
		})
	}
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "work", MountPath: WorkDir})
	spec := podSpec(c)
	spec.Volumes = append(spec.Volumes,
		corev1.Volume{Name: "script", VolumeSource: corev1.VolumeSource{
			ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: o.configMapName()}},
		}},
		corev1.Volume{Name: "work", VolumeSource: workVolume(o)},
	)
	return job(o, o.MasterName(), "master", spec, batchv1.JobSpec{
		Parallelism: ptr(int32(1)), Completions: ptr(int32(1)), BackoffLimit: ptr(int32(0)),
	})
}

// workVolume is the master's working directory: scratch space, or the
// claim that keeps the results.
func workVolume(o *Options) corev1.VolumeSource {
	if o.ResultsClaim != "" {
		return corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: o.ResultsClaim}}
	}
	return corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}
}

// workersJob runs N workers as an Indexed Job. A failed worker fails its
// index only (backoffLimitPerIndex 0): the others keep their load, and
// the master redistributes the lost share.
func workersJob(o *Options) *batchv1.Job {
	c := container(o, "worker", WorkerArgs(o))
	index := corev1.EnvVar{Name: IndexEnv, ValueFrom: &corev1.EnvVarSource{
		FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['" + IndexAnnotation + "']"},
	}}
	c.Env = append(c.Env[:1], append([]corev1.EnvVar{index}, c.Env[1:]...)...)
	n := int32(o.Workers)
	mode := batchv1.IndexedCompletion
	return job(o, o.WorkersName(), "worker", podSpec(c), batchv1.JobSpec{
		Parallelism: &n, Completions: &n, CompletionMode: &mode, BackoffLimitPerIndex: ptr(int32(0)),
	})
}

func job(o *Options, name, component string, spec corev1.PodSpec, js batchv1.JobSpec) *batchv1.Job {
	if o.TTL > 0 {
		js.TTLSecondsAfterFinished = ptr(int32(o.TTL / time.Second))
	}
	js.Template = corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: labels(o, component)},
		Spec:       spec,
	}
	return &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: meta(o, name, component),
		Spec:       js,
	}
}

// container is surge with the token from the Secret, the user's
// variables, a scratch /tmp (the worker writes the bundle there; the
// image may have no /tmp) and the requests asked for.
func container(o *Options, name string, args []string) corev1.Container {
	c := corev1.Container{
		Name: name, Image: o.Image, Command: []string{"surge"}, Args: args,
		Env: []corev1.EnvVar{{Name: TokenEnv, ValueFrom: &corev1.EnvVarSource{
			SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: o.secretName()}, Key: TokenKey,
			},
		}}},
		VolumeMounts: []corev1.VolumeMount{{Name: "tmp", MountPath: "/tmp"}},
	}
	for _, kv := range o.Env {
		name, value, _ := strings.Cut(kv, "=")
		c.Env = append(c.Env, corev1.EnvVar{Name: name, Value: value})
	}
	req := corev1.ResourceList{}
	if o.CPU != "" {
		req[corev1.ResourceCPU] = resource.MustParse(o.CPU)
	}
	if o.Memory != "" {
		req[corev1.ResourceMemory] = resource.MustParse(o.Memory)
	}
	if len(req) > 0 {
		c.Resources.Requests = req
	}
	return c
}

func podSpec(c corev1.Container) corev1.PodSpec {
	return corev1.PodSpec{
		RestartPolicy:      corev1.RestartPolicyNever,
		EnableServiceLinks: ptr(false),
		Containers:         []corev1.Container{c},
		Volumes: []corev1.Volume{{Name: "tmp", VolumeSource: corev1.VolumeSource{
			EmptyDir: &corev1.EmptyDirVolumeSource{},
		}}},
	}
}

func ptr[T any](v T) *T { return &v }
