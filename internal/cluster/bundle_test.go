package cluster

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBundleDigest(t *testing.T) {
	base := Bundle{Args: []string{"--vus=2"}, Script: "a.js", Files: []File{{"a.js", []byte("x")}, {"b.txt", []byte("y")}}}
	sum := base.Sum()
	reordered := base
	reordered.Files = []File{base.Files[1], base.Files[0]}
	if reordered.Sum() != sum {
		t.Error("the digest depends on the order of the files")
	}
	changes := map[string]Bundle{
		"args":         {Args: []string{"--vus=3"}, Script: "a.js", Files: base.Files},
		"script":       {Args: base.Args, Script: "b.txt", Files: base.Files},
		"content":      {Args: base.Args, Script: "a.js", Files: []File{{"a.js", []byte("x")}, {"b.txt", []byte("z")}}},
		"boundary":     {Args: base.Args, Script: "a.js", Files: []File{{"a.js", []byte("xb.txt")}, {"", []byte("y")}}},
		"args split":   {Args: []string{"--vus", "=2"}, Script: "a.js", Files: base.Files},
		"missing file": {Args: base.Args, Script: "a.js", Files: base.Files[:1]},
	}
	for name, b := range changes {
		if b.Sum() == sum {
			t.Errorf("%s: a different bundle has the same digest", name)
		}
	}
}

func TestBundleAddDirAndWrite(t *testing.T) {
	src := t.TempDir()
	for name, body := range map[string]string{
		"test.js": "js", "lib/mod.js": "mod", "data/users.csv": "u",
		".git/config": "secret", "node_modules/x/index.js": "dep", ".env": "TOKEN=1",
	} {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	var b Bundle
	if err := b.AddDir(src); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range b.Files {
		names = append(names, f.Path)
	}
	if got := strings.Join(names, " "); got != "data/users.csv lib/mod.js test.js" {
		t.Errorf("bundled %q; want the test's files without hidden files and node_modules", got)
	}
	dst := t.TempDir()
	if err := b.Write(dst); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "lib", "mod.js")); string(got) != "mod" {
		t.Errorf("lib/mod.js written as %q", got)
	}
	evil := Bundle{Files: []File{{"../escape.js", []byte("x")}}}
	if err := evil.Write(dst); err == nil || !strings.Contains(err.Error(), "outside the bundle") {
		t.Errorf("a path leaving the bundle: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dst), "escape.js")); err == nil {
		t.Error("a bundle wrote outside its directory")
	}
}
