package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// listFlag is a repeatable string flag (--stage, --threshold, --out, -H).
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// applyDefaults sets flags from a config file (--config FILE, YAML with the
// flags' long names as keys) and then from SURGE_* environment variables, so
// that precedence is: defaults < config file < environment < command line.
// Command-line parsing runs afterwards and wins.
func applyDefaults(fs *flag.FlagSet, args []string, env func(string) string) error {
	if path := findConfig(args, env); path != "" {
		if err := applyConfigFile(fs, path); err != nil {
			return err
		}
	}
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || f.Name == "config" || len(f.Name) == 1 {
			return
		}
		key := "SURGE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := env(key)
		if v == "" {
			return
		}
		if _, list := f.Value.(*listFlag); list {
			for _, part := range strings.Split(v, ";") {
				if e := fs.Set(f.Name, strings.TrimSpace(part)); e != nil {
					err = usageErrorf("environment %s=%q: %v", key, v, e)
					return
				}
			}
			return
		}
		if e := fs.Set(f.Name, v); e != nil {
			err = usageErrorf("environment %s=%q: %v%s", key, v, e, flagHint(f))
		}
	})
	return err
}

func findConfig(args []string, env func(string) string) string {
	for i, a := range args {
		if a == "--" {
			break
		}
		for _, p := range []string{"--config=", "-config="} {
			if strings.HasPrefix(a, p) {
				return a[len(p):]
			}
		}
		if (a == "--config" || a == "-config") && i+1 < len(args) {
			return args[i+1]
		}
	}
	return env("SURGE_CONFIG")
}

func applyConfigFile(fs *flag.FlagSet, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return usageErrorf("reading config: %w", err)
	}
	var m map[string]any
	if err := yaml.Unmarshal(data, &m); err != nil {
		return usageErrorf("config %s: %v", path, err)
	}
	for k, v := range m {
		f := fs.Lookup(k)
		if f == nil {
			return usageErrorf("config %s: unknown setting %q (settings are the long flag names, e.g. vus, duration, stage)", path, k)
		}
		vals := []any{v}
		if list, ok := v.([]any); ok {
			vals = list
		}
		for _, x := range vals {
			if err := fs.Set(k, fmt.Sprint(x)); err != nil {
				return usageErrorf("config %s: %s: %v", path, k, err)
			}
		}
	}
	return nil
}
