package bench

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"
)

// DefaultDir is where baselines are saved, relative to the working
// directory.
const DefaultDir = ".surge/bench"

// Machine describes where a baseline was measured, so that a comparison
// across machines can be told apart from a regression.
type Machine struct {
	GOOS      string `json:"goos"`
	GOARCH    string `json:"goarch"`
	CPU       string `json:"cpu,omitempty"`
	NumCPU    int    `json:"num_cpu"`
	Hostname  string `json:"hostname,omitempty"`
	GoVersion string `json:"go_version"`
}

// CurrentMachine describes this machine.
func CurrentMachine() Machine {
	host, _ := os.Hostname()
	return Machine{
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPU: cpuModel(),
		NumCPU: runtime.NumCPU(), Hostname: host, GoVersion: runtime.Version(),
	}
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if k, v, ok := strings.Cut(s.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// GitCommit returns the commit checked out in dir and whether the work
// tree has changes; an empty commit outside a git repository.
func GitCommit(dir string) (commit string, dirty bool) {
	out, err := gitCmd(dir, "rev-parse", "HEAD")
	if err != nil {
		return "", false
	}
	st, err := gitCmd(dir, "status", "--porcelain", "--untracked-files=no")
	return strings.TrimSpace(out), err == nil && strings.TrimSpace(st) != ""
}

func gitCmd(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	return string(out), err
}

// Baseline is a saved run: raw samples, where and on what code they were
// measured. It is what --save writes and --compare reads.
type Baseline struct {
	Name     string          `json:"name"`
	Created  time.Time       `json:"created"`
	Kind     string          `json:"kind"` // "go" or "commands"
	Machine  Machine         `json:"machine"`
	Commit   string          `json:"commit,omitempty"`
	Dirty    bool            `json:"dirty,omitempty"`
	Series   []Series        `json:"series"`
	Commands []CommandResult `json:"commands,omitempty"`
}

// NewBaseline fills a Baseline for set, measured here and now in dir.
func NewBaseline(name, kind, dir string, set *Set, cmds []CommandResult) Baseline {
	commit, dirty := GitCommit(dir)
	return Baseline{
		Name: name, Created: time.Now().UTC(), Kind: kind, Machine: CurrentMachine(),
		Commit: commit, Dirty: dirty, Series: set.Series, Commands: cmds,
	}
}

var baselineName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// BaselinePath is where a baseline called name lives in dir.
func BaselinePath(dir, name string) (string, error) {
	if !baselineName.MatchString(name) {
		return "", fmt.Errorf("baseline name %q: use letters, digits, '.', '_' and '-'", name)
	}
	return filepath.Join(dir, name+".json"), nil
}

// SaveBaseline writes b to dir/NAME.json, creating dir.
func SaveBaseline(dir string, b Baseline) (string, error) {
	path, err := BaselinePath(dir, b.Name)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("saving baseline: %w", err)
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return "", fmt.Errorf("saving baseline: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return "", fmt.Errorf("saving baseline: %w", err)
	}
	return path, nil
}

// Load reads a set of samples from ref: a saved baseline's name (looked up
// in dir), or a file that is either a saved baseline (JSON) or Go benchmark
// output. Unparseable benchmark lines come back as LineErrors.
func Load(dir, ref string) (*Set, []LineError, error) {
	path := ref
	if _, err := os.Stat(ref); err != nil && baselineName.MatchString(ref) {
		path, _ = BaselinePath(dir, ref)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) && path != ref {
			return nil, nil, fmt.Errorf("no baseline %q: neither a file nor %s (save one with --save %s)", ref, path, ref)
		}
		return nil, nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		var b Baseline
		if err := json.Unmarshal(data, &b); err != nil {
			return nil, nil, fmt.Errorf("reading baseline %s: %w", path, err)
		}
		label := b.Name
		if label == "" {
			label = labelOf(path)
		}
		series := b.Series
		b.Series = nil
		return &Set{Label: label, Series: series, Origin: &b}, nil, nil
	}
	set, bad, err := ParseGoBench(bytes.NewReader(data), path, labelOf(path))
	if err == nil && len(set.Series) == 0 {
		err = fmt.Errorf("%s: no benchmark results in it", path)
	}
	return set, bad, err
}

// Describe says where a baseline comes from, in one line.
func (b *Baseline) Describe() string {
	s := fmt.Sprintf("baseline %s from %s", b.Name, b.Created.Format("2006-01-02 15:04 MST"))
	if b.Commit != "" {
		c := b.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		s += " at commit " + c
		if b.Dirty {
			s += " (with uncommitted changes)"
		}
	}
	return s
}

// MachineDiffers reports how the baseline's machine differs from m, or ""
// when it looks the same: results from different hardware differ for
// reasons no code change explains.
func (b *Baseline) MachineDiffers(m Machine) string {
	o := b.Machine
	var d []string
	if o.GOOS != m.GOOS || o.GOARCH != m.GOARCH {
		d = append(d, fmt.Sprintf("%s/%s, here %s/%s", o.GOOS, o.GOARCH, m.GOOS, m.GOARCH))
	}
	if o.CPU != m.CPU {
		d = append(d, fmt.Sprintf("CPU %q, here %q", o.CPU, m.CPU))
	}
	if o.NumCPU != m.NumCPU {
		d = append(d, fmt.Sprintf("%d CPUs, here %d", o.NumCPU, m.NumCPU))
	}
	return strings.Join(d, "; ")
}
