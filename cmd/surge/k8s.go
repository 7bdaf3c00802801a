package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/surgeload/surge/internal/cluster"
	"github.com/surgeload/surge/internal/k8s"
)

func init() {
	register(command{name: "k8s", summary: "Kubernetes manifests for a distributed run (surge k8s manifests SCRIPT --workers N)", run: k8sCmd})
}

type k8sFlags struct {
	workers                       int
	namespace, name, image        string
	cpu, memory, tokenSecret, out string
	ttl                           time.Duration
	env                           listFlag
	resultsPVC                    string
}

func (k *k8sFlags) define(fs *flag.FlagSet) {
	fs.IntVar(&k.workers, "workers", 0, "number of worker pods (required, at least 1)")
	fs.StringVar(&k.namespace, "namespace", k8s.DefaultNamespace, "namespace of every object")
	fs.StringVar(&k.name, "name", "", "prefix of the objects' names (default: from the script's file name)")
	fs.StringVar(&k.image, "image", k8s.DefaultImage, "image with the surge binary on its PATH (build it from the repository, see docs/k8s.md)")
	fs.StringVar(&k.cpu, "cpu", "", "CPU request of each pod, e.g. 500m or 2")
	fs.StringVar(&k.memory, "memory", "", "memory request of each pod, e.g. 512Mi")
	fs.StringVar(&k.tokenSecret, "token-secret", "", "use this existing Secret's \"token\" key instead of generating a Secret")
	fs.DurationVar(&k.ttl, "ttl", k8s.DefaultTTL, "keep the finished Jobs (and the master's log) this long; 0 keeps them")
	fs.Var(&k.env, "env", "NAME=VALUE variable for every pod, e.g. for a script's __ENV (repeatable)")
	fs.StringVar(&k.resultsPVC, "results-pvc", "", "mount this PersistentVolumeClaim as the master's working directory, to keep the files it writes")
	fs.StringVar(&k.out, "o", "", "write the manifests to this file instead of stdout")
}

func k8sCmd(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	if len(args) == 0 || args[0] != "manifests" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
			fmt.Fprintln(stdout, "usage: surge k8s manifests SCRIPT --workers N [flags] [-- master run flags]")
			return nil
		}
		return usageErrorf("want a subcommand: surge k8s manifests SCRIPT --workers N")
	}
	own, runArgs := splitDashDash(args[1:])
	var f k8sFlags
	fs := newFlagSet("k8s manifests")
	f.define(fs)
	if err := parseFlags(fs, own, stdout); err != nil {
		return err
	}
	if err := f.check(fs); err != nil {
		return err
	}
	if err := checkMasterArgs(runArgs); err != nil {
		return err
	}
	opts, err := f.options(fs.Arg(0), runArgs)
	if err != nil {
		return err
	}
	m, err := k8s.Build(opts)
	if err != nil {
		return usageErrorf("%w", err)
	}
	write := func(w io.Writer) error { return k8s.WriteYAML(w, m.Objects()) }
	if f.out == "" {
		return write(stdout)
	}
	if err := writeTo(f.out, write); err != nil {
		return fmt.Errorf("writing the manifests: %w", err)
	}
	fmt.Fprintf(stderr, "wrote %s: kubectl apply -f %s, then kubectl logs -f job/%s\n", f.out, f.out, opts.MasterName())
	return nil
}

// splitDashDash cuts args at the first "--": what follows goes to the
// master untouched.
func splitDashDash(args []string) (own, rest []string) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:]
		}
	}
	return args, nil
}

func (f *k8sFlags) check(fs *flag.FlagSet) error {
	switch {
	case fs.NArg() == 0:
		return usageErrorf("no script: surge k8s manifests SCRIPT --workers N")
	case fs.NArg() > 1:
		return usageErrorf("one script only (got %q); run flags for the master go after --", fs.Args())
	case f.workers < 1:
		return usageErrorf("--workers: want at least 1 worker pod, got %d", f.workers)
	}
	return nil
}

// checkMasterArgs parses the run flags with surge master's own flag set,
// so a typo fails here rather than in a pod, and refuses the flags the
// manifests set themselves.
func checkMasterArgs(args []string) error {
	var rf runFlags
	var mf masterFlags
	fs := newFlagSet("master")
	rf.define(fs)
	mf.define(fs)
	if err := parseFlags(fs, args, io.Discard); err != nil {
		return usageErrorf("run flags after --: %w", err)
	}
	if fs.NArg() > 0 {
		return usageErrorf("run flags after --: unexpected argument %q (the script comes before --)", fs.Arg(0))
	}
	var err error
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "listen", "expect-workers":
			err = usageErrorf("run flags after --: --%s is set by the manifests (use --workers for the count)", fl.Name)
		case "token":
			err = usageErrorf("run flags after --: --token would show in the pod spec; use --token-secret NAME")
		}
	})
	return err
}

// options reads the script's directory as the master would bundle it.
func (f *k8sFlags) options(script string, runArgs []string) (k8s.Options, error) {
	if st, err := os.Stat(script); err != nil || st.IsDir() {
		return k8s.Options{}, usageErrorf("script %q: not a readable file", script)
	}
	abs, err := filepath.Abs(script)
	if err != nil {
		return k8s.Options{}, usageErrorf("script %q: %w", script, err)
	}
	var b cluster.Bundle
	if err := b.AddDir(filepath.Dir(abs)); err != nil {
		return k8s.Options{}, usageErrorf("reading the script's directory: %w", err)
	}
	o := k8s.Options{
		Name: f.name, Namespace: f.namespace, Image: f.image, Workers: f.workers,
		Script: filepath.Base(abs), TokenSecret: f.tokenSecret, RunArgs: runArgs,
		CPU: f.cpu, Memory: f.memory, TTL: f.ttl, Env: f.env,
		ResultsClaim: f.resultsPVC,
	}
	if o.Name == "" {
		o.Name = k8s.SanitizeName(o.Script)
	}
	for _, file := range b.Files {
		o.Files = append(o.Files, k8s.File{Path: file.Path, Data: file.Data})
	}
	if o.TokenSecret == "" {
		o.Token = rand.Text()
	}
	return o, nil
}
