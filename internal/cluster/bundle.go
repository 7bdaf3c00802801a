package cluster

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Bundle is everything a worker needs to build the same test as the
// master: the run flags, and for a script the files of its directory
// (the script, its imports, the files it opens), with their digest.
type Bundle struct {
	Args   []string // run flags, as for surge run
	Script string   // the script's path inside Files, "" for a quick --url test
	Files  []File
	Digest string // hex SHA-256 of Args, Script and Files (see Sum)
}

// File is one file of a bundle; Path is slash-separated and relative.
type File struct {
	Path string
	Data []byte
}

// Limits on what a bundle may hold: a test directory, not a home directory.
const (
	MaxBundleBytes = 64 << 20
	MaxBundleFiles = 2000
)

// Sum computes the bundle's digest. Each field is length-prefixed, so no
// two different bundles hash the same input.
func (b *Bundle) Sum() string {
	h := sha256.New()
	put := func(s []byte) {
		h.Write(binary.AppendUvarint(nil, uint64(len(s))))
		h.Write(s)
	}
	put([]byte(fmt.Sprint(len(b.Args))))
	for _, a := range b.Args {
		put([]byte(a))
	}
	put([]byte(b.Script))
	files := append([]File(nil), b.Files...)
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	for _, f := range files {
		put([]byte(f.Path))
		put(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Seal sets the digest.
func (b *Bundle) Seal() { b.Digest = b.Sum() }

// AddDir adds the regular files under dir (skipping hidden files and
// directories and node_modules), with paths relative to dir.
func (b *Bundle) AddDir(dir string) error {
	var total int64
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if p != dir && (strings.HasPrefix(name, ".") || name == "node_modules") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		total += int64(len(data))
		if total > MaxBundleBytes || len(b.Files) >= MaxBundleFiles {
			return fmt.Errorf("the script's directory %s holds more than %d MiB or %d files: put the script and its files in a directory of their own", dir, MaxBundleBytes>>20, MaxBundleFiles)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b.Files = append(b.Files, File{Path: filepath.ToSlash(rel), Data: data})
		return nil
	})
}

// Write writes the files under dir, refusing paths that would leave it.
func (b *Bundle) Write(dir string) error {
	for _, f := range b.Files {
		rel := filepath.FromSlash(f.Path)
		if !filepath.IsLocal(rel) {
			return fmt.Errorf("bundle file %q is outside the bundle", f.Path)
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
