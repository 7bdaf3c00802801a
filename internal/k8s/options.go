package k8s

import (
	"errors"
	"fmt"
	"math"
	"path"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Defaults of the options, which the CLI's flag defaults point at.
const (
	DefaultNamespace = "default"
	DefaultImage     = "surge:latest"
	DefaultTTL       = time.Hour
	// DefaultConnectTimeout is how long a worker pod keeps trying to reach
	// the master: pods start in any order and images take time to pull.
	DefaultConnectTimeout = 5 * time.Minute
	// DefaultWaitTimeout is how long the master waits for its workers
	// (more than surge master's own 2m, for the same reason). Run flags
	// given after -- come later on the command line and win.
	DefaultWaitTimeout = 5 * time.Minute
)

// Fixed parts of the layout.
const (
	Port            = 6565                                       // the master's port, as surge master's default
	ScriptDir       = "/scripts"                                 // where the master pod finds the script's files
	WorkDir         = "/work"                                    // the master's working directory
	TokenKey        = "token"                                    // the key of the token in the Secret
	TokenEnv        = "SURGE_TOKEN"                              // the variable surge reads --token from
	IndexEnv        = "SURGE_WORKER_INDEX"                       // a worker's completion index
	IndexAnnotation = "batch.kubernetes.io/job-completion-index" // where the Job controller puts it
	// MaxNameLen keeps the longest derived name, a worker pod's hostname
	// <name>-workers-<index>, within a 63-character DNS label.
	MaxNameLen = 40
	// MaxScriptBytes bounds the files in the ConfigMap: the API server
	// refuses objects over 1 MiB, and the rest of the object needs room.
	MaxScriptBytes = 1000 * 1000
)

// File is one file of the script's directory; Path is relative and uses
// forward slashes.
type File struct {
	Path string
	Data []byte
}

// Options describe one distributed run.
type Options struct {
	Name      string // prefix of every object's name (a DNS-1035 label)
	Namespace string
	Image     string // the image holding the surge binary on its PATH
	Workers   int
	// Script is the script's path among Files.
	Script string
	// Files is the script's directory, as the master would bundle it.
	Files []File
	// Token, when set, goes into a new Secret; TokenSecret instead names
	// an existing Secret with the token under the key "token".
	Token, TokenSecret string
	// RunArgs are flags for surge master (run flags and master flags).
	RunArgs     []string
	CPU, Memory string // resource requests of every pod, "" for none
	// Env holds NAME=VALUE variables for every pod: a script's __ENV is
	// the environment of the process that loads it.
	Env []string
	// ResultsClaim, when set, names a PersistentVolumeClaim mounted as the
	// master's working directory, so files it writes there (relative
	// --summary-export, --report, --out json=, saved runs) outlive the pod.
	ResultsClaim string
	// TTL is how long Kubernetes keeps the finished Jobs (and so the
	// master's log); 0 keeps them until deleted.
	TTL time.Duration
}

// SanitizeName turns s (a script's file name) into a valid Name: lower
// case, runs of other characters as one "-", starting with a letter, at
// most MaxNameLen long. It returns "surge" when nothing is left.
func SanitizeName(s string) string {
	s = strings.TrimSuffix(s, path.Ext(s))
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		default:
			dash = true
		}
	}
	name := b.String()
	if len(name) > MaxNameLen {
		name = strings.TrimRight(name[:MaxNameLen], "-")
	}
	if name == "" {
		return "surge"
	}
	return name
}

// Validate checks the options and says what to fix.
func (o *Options) Validate() error {
	if err := validName(o.Name); err != nil {
		return err
	}
	if errs := validation.IsDNS1123Label(o.Namespace); len(errs) > 0 {
		return fmt.Errorf("namespace %q: %s", o.Namespace, errs[0])
	}
	switch {
	case o.Workers < 1:
		return fmt.Errorf("workers: want at least 1, got %d", o.Workers)
	case o.Image == "":
		return errors.New("image: must not be empty")
	case (o.Token == "") == (o.TokenSecret == ""):
		return errors.New("give either a token or the name of a token Secret")
	case o.TTL < 0 || o.TTL > math.MaxInt32*time.Second:
		return fmt.Errorf("ttl: want 0 (keep) up to %d seconds, got %s", math.MaxInt32, o.TTL)
	}
	if o.TokenSecret != "" {
		if errs := validation.IsDNS1123Subdomain(o.TokenSecret); len(errs) > 0 {
			return fmt.Errorf("token Secret %q: %s", o.TokenSecret, errs[0])
		}
	}
	if o.ResultsClaim != "" {
		if errs := validation.IsDNS1123Subdomain(o.ResultsClaim); len(errs) > 0 {
			return fmt.Errorf("results claim %q: %s", o.ResultsClaim, errs[0])
		}
	}
	if err := o.validateFiles(); err != nil {
		return err
	}
	if err := validEnv(o.Env); err != nil {
		return err
	}
	return validQuantities(o.CPU, o.Memory)
}

func validName(name string) error {
	if len(name) > MaxNameLen {
		return fmt.Errorf("name %q: at most %d characters, got %d", name, MaxNameLen, len(name))
	}
	if errs := validation.IsDNS1035Label(name); len(errs) > 0 {
		return fmt.Errorf("name %q: %s", name, errs[0])
	}
	return nil
}

func (o *Options) validateFiles() error {
	var total int
	found := false
	for _, f := range o.Files {
		total += len(f.Data)
		found = found || f.Path == o.Script
	}
	switch {
	case !found:
		return fmt.Errorf("script %q is not among the files", o.Script)
	case total > MaxScriptBytes:
		return fmt.Errorf("the script's directory holds %d bytes, more than a ConfigMap's %d: put the script and its files in a directory of their own", total, MaxScriptBytes)
	}
	return nil
}

func validEnv(env []string) error {
	for _, kv := range env {
		name, _, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("env %q: want NAME=VALUE", kv)
		}
		if errs := validation.IsEnvVarName(name); len(errs) > 0 {
			return fmt.Errorf("env %q: %s", name, errs[0])
		}
		if name == TokenEnv || name == IndexEnv {
			return fmt.Errorf("env %s: set by the manifests themselves", name)
		}
	}
	return nil
}

func validQuantities(cpu, memory string) error {
	for _, q := range []struct{ name, v string }{{"cpu", cpu}, {"memory", memory}} {
		if q.v == "" {
			continue
		}
		if _, err := resource.ParseQuantity(q.v); err != nil {
			return fmt.Errorf("%s %q: not a quantity like 500m, 2 or 1Gi", q.name, q.v)
		}
	}
	return nil
}

// Names of the objects made from Options.Name.
func (o *Options) secretName() string {
	if o.TokenSecret != "" {
		return o.TokenSecret
	}
	return o.Name + "-token"
}
func (o *Options) configMapName() string { return o.Name + "-script" }

// MasterName names the master's Job and Service.
func (o *Options) MasterName() string { return o.Name + "-master" }

// WorkersName names the workers' Job.
func (o *Options) WorkersName() string { return o.Name + "-workers" }

// MasterAddr is the address the workers dial: the Service's DNS name.
func (o *Options) MasterAddr() string {
	return fmt.Sprintf("%s.%s.svc:%d", o.MasterName(), o.Namespace, Port)
}
