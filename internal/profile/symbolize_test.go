package profile

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestPerfMapNamesJITCode(t *testing.T) {
	bin := buildC(t, "jit")
	cmd := startReady(t, bin, "30")
	p := recordPID(t, cmd.Process.Pid, 499, time.Second)
	share, n := shareOf(p, "jit_hot_loop")
	if share < 0.8 {
		var buf bytes.Buffer
		WriteTop(&buf, p, 10)
		t.Fatalf("jit_hot_loop (from /tmp/perf-%d.map) has %.0f%% of %d samples, want >= 80%%\n%s", cmd.Process.Pid, 100*share, n, buf.String())
	}
}

func TestStrippedCBinaryShowsModuleOffsets(t *testing.T) {
	bin := buildC(t, "cprog", "-s")
	cmd := startReady(t, bin, "30")
	p := recordPID(t, cmd.Process.Pid, 499, time.Second)
	prefix := filepath.Base(bin) + "+0x"
	share, _ := shareWhere(p, func(leaf string) bool { return strings.HasPrefix(leaf, prefix) })
	if share < 0.8 {
		var buf bytes.Buffer
		WriteTop(&buf, p, 10)
		t.Fatalf("stripped binary: want >= 80%% of self time in frames named %s…, got\n%s", prefix, buf.String())
	}
}

func TestStrippedGoBinaryKeepsNamesFromPclntab(t *testing.T) {
	bin := buildGo(t, "hot", "-s", "-w")
	cmd := startReady(t, bin, "30s")
	p := recordPID(t, cmd.Process.Pid, 499, time.Second)
	if share, n := shareOf(p, "main.hot"); share < 0.8 {
		t.Fatalf("stripped Go binary: main.hot has %.0f%% of %d samples", 100*share, n)
	}
}

func TestParseRegions(t *testing.T) {
	text := `00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus daemon
00651000-00652000 rw-p 00051000 08:02 173521      /usr/bin/dbus daemon (deleted)
7f0000000000-7f0000001000 rwxp 00000000 00:00 0 
7ffd1000-7ffd3000 r-xp 00000000 00:00 0                  [vdso]
`
	rs, err := parseRegions([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr uint64
		path string
		exec bool
		file bool
	}{
		{0x400000, "/usr/bin/dbus daemon", true, true},
		{0x651fff, "/usr/bin/dbus daemon", false, true},
		{0x7f0000000800, "", true, false},
		{0x7ffd2000, "[vdso]", true, false},
	} {
		r := rs.find(tc.addr)
		if r == nil || r.path != tc.path || r.exec != tc.exec || r.fileBacked() != tc.file {
			t.Errorf("find(%#x) = %+v, want path %q exec %v file %v", tc.addr, r, tc.path, tc.exec, tc.file)
		}
	}
	if r := rs.find(0x500000); r != nil {
		t.Errorf("find in a gap = %+v, want nil", r)
	}
	if _, err := parseRegions([]byte("zz r-xp 0 0:0 0 x\n")); err == nil {
		t.Error("bad line parsed without error")
	}
}

func TestPerfMapLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "perf-1.map")
	text := "1000 10 py::outer:/app/x.py\n0x1010 8 py::inner:/app/x.py\nbad line\n2000 100 [jit] Foo.bar(int)\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	pm, err := loadPerfMap(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		addr uint64
		want string
	}{
		{0x1000, "py::outer:/app/x.py"},
		{0x100f, "py::outer:/app/x.py"},
		{0x1012, "py::inner:/app/x.py"},
		{0x1018, ""},
		{0x2050, "[jit] Foo.bar(int)"},
		{0x2100, ""},
		{0x10, ""},
	} {
		if got := pm.lookup(tc.addr); got != tc.want {
			t.Errorf("lookup(%#x) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

func TestGoInlinedFramesExpand(t *testing.T) {
	bin := buildGo(t, "inline")
	cmd := startReady(t, bin, "30s")
	p := recordPID(t, cmd.Process.Pid, 499, time.Second)
	var col bytes.Buffer
	if err := WriteCollapsed(&col, p, 0); err != nil {
		t.Fatal(err)
	}
	share, n := shareOf(p, "main.mix")
	if share < 0.5 || !strings.Contains(col.String(), "main.outer;main.mix ") {
		t.Fatalf("inlined main.mix has %.0f%% of %d samples; want most, under main.outer:\n%s", 100*share, n, firstLines(col.String(), 10))
	}
	// The outer frame's line is the call site, not a line of mix.
	for _, s := range p.Sample {
		for _, l := range s.Location {
			if len(l.Line) == 2 && l.Line[0].Function.Name == "main.mix" {
				src := readSource(l.Line[1].Function.Filename)
				if ln := l.Line[1].Line; ln < 1 || int(ln) > len(src) || !strings.Contains(src[ln-1], "x = mix(x)") {
					t.Fatalf("main.outer line %d is not the call site", ln)
				}
				return
			}
		}
	}
	t.Fatal("no location holds main.mix inlined into main.outer")
}

func TestCDWARFLineTables(t *testing.T) {
	bin := buildC(t, "cprog", "-g")
	cmd := startReady(t, bin, "30")
	p := recordPID(t, cmd.Process.Pid, 499, time.Second)
	fls := Lines(p, regexp.MustCompile(`^c_leaf$`), 0)
	if len(fls) != 1 || !strings.HasSuffix(fls[0].File, "prog.c") || len(fls[0].Lines) == 0 {
		t.Fatalf("c_leaf lines = %+v, want lines of prog.c", fls)
	}
	src := readSource(fls[0].File)
	if ln := fls[0].Lines[0].Line; ln < 1 || int(ln) > len(src) || !strings.Contains(src[ln-1], "for (long i") {
		t.Fatalf("hottest c_leaf line %d is not its loop", ln)
	}
}

func TestSeparateDebugFileByBuildID(t *testing.T) {
	bin := buildCInto(t, t.TempDir(), "cprog", "-g", "-Wl,--build-id") // stripped below: not shared
	for _, tool := range []string{"objcopy", "strip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s (binutils) is not installed", tool)
		}
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprintf("%x", buildID(f))
	f.Close()
	if len(id) < 4 {
		t.Fatalf("no build id in %s", bin)
	}
	root := t.TempDir()
	debug := filepath.Join(root, ".build-id", id[:2], id[2:]+".debug")
	os.MkdirAll(filepath.Dir(debug), 0o755)
	for _, args := range [][]string{
		{"objcopy", "--only-keep-debug", bin, debug},
		{"strip", "--strip-all", bin},
	} {
		if b, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, b)
		}
	}
	old := debugRoots
	debugRoots = []string{root}
	t.Cleanup(func() { debugRoots = old })

	cmd := startReady(t, bin, "30")
	p := recordPID(t, cmd.Process.Pid, 499, time.Second)
	if share, n := shareOf(p, "c_leaf"); share < 0.8 {
		t.Fatalf("stripped binary with a debug file: c_leaf has %.0f%% of %d samples", 100*share, n)
	}
	if fls := Lines(p, regexp.MustCompile(`^c_leaf$`), 0); len(fls) != 1 || !strings.HasSuffix(fls[0].File, "prog.c") {
		t.Fatalf("no line info from the debug file: %+v", fls)
	}
}
