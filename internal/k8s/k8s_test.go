package k8s

import (
	"bytes"
	"fmt"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

var script = []byte("import { f } from './lib/f.js';\nexport default function () { f(); }\n")

func testOptions() Options {
	return Options{
		Name: "load", Namespace: "perf", Image: "registry.example/surge:1.0", Workers: 20,
		Script: "load.js",
		Files: []File{
			{Path: "load.js", Data: script},
			{Path: "lib/f.js", Data: []byte("export function f() {}\n")},
			{Path: "data/blob.bin", Data: []byte{0xff, 0xfe, 0x00, 0x01}},
		},
		Token: "s3cret", RunArgs: []string{"--vus=200", "-d", "5m"},
		CPU: "2", Memory: "1Gi", TTL: DefaultTTL,
	}
}

// roundTrip builds, writes and decodes o strictly.
func roundTrip(t *testing.T, o Options) *Manifests {
	t.Helper()
	m, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, m.Objects()); err != nil {
		t.Fatal(err)
	}
	d, err := Decode(buf.Bytes())
	if err != nil {
		t.Fatalf("decoding the output: %v\n%s", err, buf.String())
	}
	return d
}

func TestWorkersIndexedJob(t *testing.T) {
	for _, n := range []int{1, 3, 20} {
		o := testOptions()
		o.Workers = n
		w := roundTrip(t, o).Workers
		s := w.Spec
		if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion {
			t.Errorf("n=%d: completionMode %v, want Indexed", n, s.CompletionMode)
		}
		if s.Completions == nil || s.Parallelism == nil || int(*s.Completions) != n || int(*s.Parallelism) != n {
			t.Errorf("n=%d: completions %v, parallelism %v; want both %d", n, s.Completions, s.Parallelism, n)
		}
		if s.BackoffLimitPerIndex == nil || *s.BackoffLimitPerIndex != 0 {
			t.Errorf("n=%d: backoffLimitPerIndex %v, want 0 (a failed worker fails its index only)", n, s.BackoffLimitPerIndex)
		}
		if s.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("n=%d: restartPolicy %q", n, s.Template.Spec.RestartPolicy)
		}
	}
}

func TestWorkerIndexFromDownwardAPI(t *testing.T) {
	c := roundTrip(t, testOptions()).Workers.Spec.Template.Spec.Containers[0]
	e := env(c, IndexEnv)
	if e == nil || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil {
		t.Fatalf("no %s from the downward API: %+v", IndexEnv, c.Env)
	}
	if got, want := e.ValueFrom.FieldRef.FieldPath, "metadata.annotations['batch.kubernetes.io/job-completion-index']"; got != want {
		t.Errorf("fieldPath %q, want %q", got, want)
	}
	if !slices.Contains(c.Args, "--name=worker-$("+IndexEnv+")") {
		t.Errorf("the worker is not named after its index: %q", c.Args)
	}
}

func TestWorkersDialTheService(t *testing.T) {
	m := roundTrip(t, testOptions())
	svc := m.Service
	addr := flagValue(t, m.Workers.Spec.Template.Spec.Containers[0].Args, "--master")
	want := fmt.Sprintf("%s.%s.svc:%d", svc.Name, svc.Namespace, svc.Spec.Ports[0].Port)
	if addr != want {
		t.Errorf("workers dial %q, the Service is %q", addr, want)
	}
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || svc.Spec.Ports[0].Port != Port {
		t.Errorf("service %s port %d, want ClusterIP %d", svc.Spec.Type, svc.Spec.Ports[0].Port, Port)
	}
	// The target port is the master container's named port, which is
	// where --listen points.
	mc := m.Master.Spec.Template.Spec.Containers[0]
	if len(mc.Ports) != 1 || mc.Ports[0].Name != svc.Spec.Ports[0].TargetPort.StrVal || mc.Ports[0].ContainerPort != Port {
		t.Errorf("service targetPort %v, master ports %+v", svc.Spec.Ports[0].TargetPort, mc.Ports)
	}
	if got := flagValue(t, mc.Args, "--listen"); got != fmt.Sprintf(":%d", Port) {
		t.Errorf("master listens on %q", got)
	}
}

func TestServiceSelectsOnlyTheMaster(t *testing.T) {
	m := roundTrip(t, testOptions())
	sel := m.Service.Spec.Selector
	if !matches(sel, m.Master.Spec.Template.Labels) {
		t.Errorf("selector %v does not match the master pod's labels %v", sel, m.Master.Spec.Template.Labels)
	}
	if matches(sel, m.Workers.Spec.Template.Labels) {
		t.Errorf("selector %v matches the worker pods %v", sel, m.Workers.Spec.Template.Labels)
	}
}

func TestMasterJob(t *testing.T) {
	o := testOptions()
	j := roundTrip(t, o).Master
	s := j.Spec
	if *s.BackoffLimit != 0 || *s.Completions != 1 || *s.Parallelism != 1 || s.CompletionMode != nil {
		t.Errorf("master job spec: backoffLimit %d completions %d parallelism %d", *s.BackoffLimit, *s.Completions, *s.Parallelism)
	}
	if s.TTLSecondsAfterFinished == nil || *s.TTLSecondsAfterFinished != 3600 {
		t.Errorf("ttlSecondsAfterFinished %v, want 3600", s.TTLSecondsAfterFinished)
	}
	c := s.Template.Spec.Containers[0]
	want := []string{"master", "--listen=:6565", "--expect-workers=20", "--wait-timeout=5m", "--vus=200", "-d", "5m", "/scripts/load.js"}
	if !slices.Equal(c.Args, want) || !slices.Equal(c.Command, []string{"surge"}) {
		t.Errorf("master command %q %q, want surge %q", c.Command, c.Args, want)
	}
	if c.Resources.Requests.Cpu().String() != "2" || c.Resources.Requests.Memory().String() != "1Gi" {
		t.Errorf("requests %v", c.Resources.Requests)
	}
}

// TestScriptFiles: mounting each ConfigMap key at its mountPath (what
// subPath does) gives back the script's directory byte for byte.
func TestScriptFiles(t *testing.T) {
	o := testOptions()
	m := roundTrip(t, o)
	if got := m.ConfigMap.Data["load.js"]; got != string(script) {
		t.Errorf("ConfigMap load.js = %q, want the script %q", got, script)
	}
	got := map[string][]byte{}
	for _, vm := range m.Master.Spec.Template.Spec.Containers[0].VolumeMounts {
		if vm.Name != "script" {
			continue
		}
		data, ok := []byte(m.ConfigMap.Data[vm.SubPath]), true
		if _, text := m.ConfigMap.Data[vm.SubPath]; !text {
			data, ok = m.ConfigMap.BinaryData[vm.SubPath]
		}
		if !ok || !vm.ReadOnly {
			t.Errorf("mount %+v: no key %q", vm, vm.SubPath)
		}
		got[strings.TrimPrefix(vm.MountPath, ScriptDir+"/")] = data
	}
	for _, f := range o.Files {
		if !bytes.Equal(got[f.Path], f.Data) {
			t.Errorf("%s mounted as %q, want %q", f.Path, got[f.Path], f.Data)
		}
	}
	if len(got) != len(o.Files) {
		t.Errorf("%d files mounted, want %d", len(got), len(o.Files))
	}
	if flagScript := m.Master.Spec.Template.Spec.Containers[0].Args; flagScript[len(flagScript)-1] != path.Join(ScriptDir, o.Script) {
		t.Errorf("master runs %q", flagScript[len(flagScript)-1])
	}
}

func TestTokenReachesBothSides(t *testing.T) {
	tests := []struct {
		name, token, secret, wantSecret string
	}{
		{"generated", "s3cret", "", "load-token"},
		{"existing", "", "team-surge-token", "team-surge-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions()
			o.Token, o.TokenSecret = tt.token, tt.secret
			m := roundTrip(t, o)
			if tt.secret != "" && m.Secret != nil {
				t.Errorf("a Secret was emitted although %q exists", tt.secret)
			}
			if tt.secret == "" && (m.Secret == nil || string(m.Secret.Data[TokenKey]) != tt.token || m.Secret.Name != tt.wantSecret) {
				t.Errorf("secret %+v, want %s with the token", m.Secret, tt.wantSecret)
			}
			for _, j := range []*batchv1.Job{m.Master, m.Workers} {
				c := j.Spec.Template.Spec.Containers[0]
				e := env(c, TokenEnv)
				if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil ||
					e.ValueFrom.SecretKeyRef.Name != tt.wantSecret || e.ValueFrom.SecretKeyRef.Key != TokenKey {
					t.Errorf("%s: %s is not from Secret %s: %+v", j.Name, TokenEnv, tt.wantSecret, e)
				}
				if strings.Contains(strings.Join(c.Args, " "), "s3cret") {
					t.Errorf("%s: the token is on the command line: %q", j.Name, c.Args)
				}
			}
		})
	}
}

// TestNamesAndLabelsAreValid checks every name, label and key against
// the API server's own rules, for the longest name allowed.
func TestNamesAndLabelsAreValid(t *testing.T) {
	o := testOptions()
	o.Name = "a" + strings.Repeat("b", MaxNameLen-1)
	o.Workers = 99999
	m := roundTrip(t, o)
	for _, obj := range []struct {
		kind, name string
		labels     map[string]string
	}{
		{"Secret", m.Secret.Name, m.Secret.Labels},
		{"ConfigMap", m.ConfigMap.Name, m.ConfigMap.Labels},
		{"Service", m.Service.Name, m.Service.Labels},
		{"Job", m.Master.Name, m.Master.Spec.Template.Labels},
		{"Job", m.Workers.Name, m.Workers.Spec.Template.Labels},
		{"worker hostname", fmt.Sprintf("%s-%d", m.Workers.Name, o.Workers-1), nil},
	} {
		check := validation.IsDNS1123Label
		if obj.kind == "Service" {
			check = validation.IsDNS1035Label
		}
		if errs := check(obj.name); len(errs) > 0 {
			t.Errorf("%s name %q: %v", obj.kind, obj.name, errs)
		}
		for k, v := range obj.labels {
			if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
				t.Errorf("%s label %s=%q: %v", obj.kind, k, v, errs)
			}
		}
	}
	for k := range m.ConfigMap.Data {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			t.Errorf("ConfigMap key %q: %v", k, errs)
		}
	}
	for _, j := range []*batchv1.Job{m.Master, m.Workers} {
		if l := j.Spec.Template.Labels; l[LabelName] != "surge" || l[LabelInstance] != o.Name {
			t.Errorf("%s labels %v", j.Name, l)
		}
		if p := j.Spec.Template.Spec; p.EnableServiceLinks == nil || *p.EnableServiceLinks {
			t.Errorf("%s: service links on; Kubernetes would inject SURGE_* variables that surge reads as flags", j.Name)
		}
	}
}

func TestConfigMapKeys(t *testing.T) {
	tests := []struct {
		paths, want []string
	}{
		{[]string{"load.js"}, []string{"load.js"}},
		{[]string{"lib/a.js", "lib_a.js"}, []string{"lib_a.js", "lib_a.js-2"}},
		{[]string{"a b.js", "a_b.js", "a+b.js"}, []string{"a_b.js", "a_b.js-2", "a_b.js-3"}},
		{[]string{"données.json"}, []string{"donn_es.json"}},
	}
	for _, tt := range tests {
		var files []File
		for _, p := range tt.paths {
			files = append(files, File{Path: p})
		}
		got := configMapKeys(files)
		if !slices.Equal(got, tt.want) {
			t.Errorf("keys of %q = %q, want %q", tt.paths, got, tt.want)
		}
		for _, k := range got {
			if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
				t.Errorf("key %q: %v", k, errs)
			}
		}
	}
}

func TestSanitizeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"load.js", "load"},
		{"Load_Test.v2.ts", "load-test-v2"},
		{"2024-checkout.js", "checkout"},
		{"---.js", "surge"},
		{"api smoke  test.js", "api-smoke-test"},
		{strings.Repeat("x", 60) + ".js", strings.Repeat("x", MaxNameLen)},
		{strings.Repeat("x", MaxNameLen-1) + "-y.js", strings.Repeat("x", MaxNameLen-1)},
	}
	for _, tt := range tests {
		got := SanitizeName(tt.in)
		if got != tt.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if err := validName(got); err != nil {
			t.Errorf("SanitizeName(%q) = %q: %v", tt.in, got, err)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Options)
		want   string
	}{
		{"upper-case name", func(o *Options) { o.Name = "Load" }, `name "Load": a DNS-1035 label`},
		{"name starting with a digit", func(o *Options) { o.Name = "1load" }, `name "1load"`},
		{"long name", func(o *Options) { o.Name = strings.Repeat("a", MaxNameLen+1) }, "at most 40 characters"},
		{"namespace", func(o *Options) { o.Namespace = "Perf_NS" }, `namespace "Perf_NS"`},
		{"no workers", func(o *Options) { o.Workers = 0 }, "workers: want at least 1, got 0"},
		{"no image", func(o *Options) { o.Image = "" }, "image"},
		{"no token", func(o *Options) { o.Token = "" }, "either a token or"},
		{"both tokens", func(o *Options) { o.TokenSecret = "x" }, "either a token or"},
		{"token secret name", func(o *Options) { o.Token, o.TokenSecret = "", "Bad Name" }, `token Secret "Bad Name"`},
		{"negative ttl", func(o *Options) { o.TTL = -time.Second }, "ttl"},
		{"script missing", func(o *Options) { o.Script = "other.js" }, `script "other.js" is not among the files`},
		{"too big", func(o *Options) { o.Files = append(o.Files, File{Path: "big", Data: make([]byte, MaxScriptBytes)}) }, "more than a ConfigMap's"},
		{"cpu", func(o *Options) { o.CPU = "two" }, `cpu "two": not a quantity`},
		{"memory", func(o *Options) { o.Memory = "1 GB" }, `memory "1 GB"`},
		{"results claim", func(o *Options) { o.ResultsClaim = "Results!" }, `results claim "Results!"`},
		{"env without =", func(o *Options) { o.Env = []string{"BASE_URL"} }, `env "BASE_URL": want NAME=VALUE`},
		{"env name", func(o *Options) { o.Env = []string{"1X=y"} }, `env "1X"`},
		{"env token", func(o *Options) { o.Env = []string{"SURGE_TOKEN=x"} }, "env SURGE_TOKEN: set by the manifests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions()
			tt.change(&o)
			_, err := Build(o)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestEnvReachesBothSides(t *testing.T) {
	o := testOptions()
	o.Env = []string{"BASE_URL=http://api.perf.svc:8080/", "EMPTY=", "EQ=a=b"}
	m := roundTrip(t, o)
	for _, j := range []*batchv1.Job{m.Master, m.Workers} {
		c := j.Spec.Template.Spec.Containers[0]
		for name, want := range map[string]string{"BASE_URL": "http://api.perf.svc:8080/", "EMPTY": "", "EQ": "a=b"} {
			if e := env(c, name); e == nil || e.Value != want || e.ValueFrom != nil {
				t.Errorf("%s: %s = %+v, want %q", j.Name, name, e, want)
			}
		}
	}
}

func TestMasterWorkDir(t *testing.T) {
	for _, claim := range []string{"", "surge-results"} {
		o := testOptions()
		o.ResultsClaim = claim
		spec := roundTrip(t, o).Master.Spec.Template.Spec
		c := spec.Containers[0]
		var mounted bool
		for _, vm := range c.VolumeMounts {
			mounted = mounted || vm.Name == "work" && vm.MountPath == WorkDir
		}
		if !mounted || c.WorkingDir != WorkDir {
			t.Errorf("claim %q: workingDir %q, mounts %+v", claim, c.WorkingDir, c.VolumeMounts)
		}
		for _, v := range spec.Volumes {
			if v.Name != "work" {
				continue
			}
			switch {
			case claim == "" && v.EmptyDir == nil, claim != "" && (v.PersistentVolumeClaim == nil || v.PersistentVolumeClaim.ClaimName != claim):
				t.Errorf("claim %q: work volume %+v", claim, v.VolumeSource)
			}
		}
	}
}

func TestTTL(t *testing.T) {
	for _, tt := range []struct {
		ttl  time.Duration
		want *int32
	}{{0, nil}, {90 * time.Second, ptr(int32(90))}, {DefaultTTL, ptr(int32(3600))}} {
		o := testOptions()
		o.TTL = tt.ttl
		m := roundTrip(t, o)
		for _, j := range []*batchv1.Job{m.Master, m.Workers} {
			got := j.Spec.TTLSecondsAfterFinished
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("ttl %s: %s ttlSecondsAfterFinished %v, want %v", tt.ttl, j.Name, got, tt.want)
			}
		}
	}
}

func TestDecodeRefusesUnknownFields(t *testing.T) {
	m, _ := Build(testOptions())
	var buf bytes.Buffer
	WriteYAML(&buf, m.Objects())
	bad := strings.Replace(buf.String(), "completionMode: Indexed", "completionMode: Indexed\n  completionMood: x", 1)
	if _, err := Decode([]byte(bad)); err == nil || !strings.Contains(err.Error(), "completionMood") {
		t.Errorf("Decode of an unknown field: %v", err)
	}
	if strings.Contains(buf.String(), "status:") || strings.Contains(buf.String(), "creationTimestamp") {
		t.Errorf("the output carries server-side fields:\n%s", buf.String())
	}
}

func env(c corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

// flagValue finds --name=value in args.
func flagValue(t *testing.T, args []string, name string) string {
	t.Helper()
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	t.Fatalf("no %s in %q", name, args)
	return ""
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return len(selector) > 0
}
