package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	pprofile "github.com/google/pprof/profile"
	"golang.org/x/term"

	"github.com/surgeload/surge/internal/profile"
)

func init() {
	register(command{
		name:    "profile",
		summary: "sample a process or Go service: record, top, dump, lines, diff, mem",
		run:     runProfile,
	})
}

// profileSubcommands is the table of `surge profile` subcommands.
var profileSubcommands = map[string]func(ctx context.Context, stdout, stderr io.Writer, args []string) error{
	"record": profileRecord,
	"top":    profileTop,
	"dump":   profileDump,
	"lines":  profileLines,
	"diff":   profileDiff,
	"mem":    profileMem,
}

func runProfile(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprintf(stdout, "usage: surge profile %s [flags]; see docs/profile.md\n", strings.Join(profileSubcommandNames(), "|"))
		if len(args) == 0 {
			return usageErrorf("missing subcommand (record, top, dump, lines, diff or mem)")
		}
		return nil
	}
	sub, ok := profileSubcommands[args[0]]
	if !ok {
		return usageErrorf("unknown subcommand %q (want record, top, dump, lines, diff or mem)", args[0])
	}
	return sub(ctx, stdout, stderr, args[1:])
}

// targetFlags are the flags shared by commands that profile a live target.
type targetFlags struct {
	pid          int
	url          string
	rate         int
	duration     time.Duration
	subprocesses bool
	kernel       bool
}

func (tf *targetFlags) register(fs interface {
	IntVar(*int, string, int, string)
	StringVar(*string, string, string, string)
	DurationVar(*time.Duration, string, time.Duration, string)
	BoolVar(*bool, string, bool, string)
}, defDuration time.Duration) {
	fs.IntVar(&tf.pid, "pid", 0, "process id to sample")
	fs.StringVar(&tf.url, "url", "", "Go service pprof base URL (http://host:port/debug/pprof)")
	fs.IntVar(&tf.rate, "rate", profile.DefaultRate, "sampling frequency in Hz")
	fs.DurationVar(&tf.duration, "duration", defDuration, "how long to record (0: until the process exits or Ctrl-C)")
	fs.DurationVar(&tf.duration, "d", defDuration, "shorthand for --duration")
	fs.BoolVar(&tf.subprocesses, "subprocesses", false, "also sample the process's descendants")
	fs.BoolVar(&tf.kernel, "kernel", false, "add kernel call chains, named from /proc/kallsyms (root or perf_event_paranoid <= 1)")
}

func (tf *targetFlags) options() profile.Options {
	return profile.Options{Rate: tf.rate, KernelStacks: tf.kernel}
}

func (tf *targetFlags) target() profile.Target {
	return profile.Target{PID: tf.pid, URL: tf.url, Subprocesses: tf.subprocesses}
}

func (tf *targetFlags) check(cmdArgs []string) error {
	n := 0
	for _, set := range []bool{tf.pid != 0, tf.url != "", len(cmdArgs) > 0} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return usageErrorf("give --pid PID, --url URL or -- CMD ARGS")
	case n > 1:
		return usageErrorf("give only one of --pid, --url and -- CMD")
	case tf.pid < 0:
		return usageErrorf("--pid %d: want a positive process id", tf.pid)
	case tf.rate <= 0 || tf.rate > profile.MaxRate:
		return usageErrorf("--rate %d: want 1 to %d Hz", tf.rate, profile.MaxRate)
	case tf.duration < 0:
		return usageErrorf("--duration %v: want 0 or more", tf.duration)
	}
	return nil
}

func profileRecord(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("profile record")
	var tf targetFlags
	tf.register(fs, 0)
	out := fs.String("o", "", "output file (default profile.pb.gz, or by --format)")
	format := fs.String("format", "", "pprof, flamegraph, speedscope or collapsed (default: from -o's extension, else pprof)")
	kind := fs.String("kind", "cpu", "with --url: "+strings.Join(profile.Kinds, ", "))
	sampleType := fs.String("sample-type", "", "sample type to chart (e.g. alloc_space for heap; default: the profile's default)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := tf.check(fs.Args()); err != nil {
		return err
	}
	f, path, err := outputFormat(*format, *out)
	if err != nil {
		return err
	}
	stderr = &syncWriter{w: stderr} // shared with a launched command's stderr
	p, err := recordProfile(ctx, stderr, &tf, *kind, fs.Args())
	if err != nil {
		return err
	}
	if err := writeProfileFile(path, p, f, *sampleType); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%s, %d samples)\n", path, f, sampleCount(p))
	return nil
}

// syncWriter serializes writes from surge and from a launched command.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}

// outputFormat settles format and output path from whichever was given.
func outputFormat(format, out string) (string, string, error) {
	if format == "" {
		switch ext := strings.ToLower(filepath.Ext(out)); ext {
		case ".html", ".htm":
			format = "flamegraph"
		case ".json":
			format = "speedscope"
		case ".txt", ".folded", ".collapsed":
			format = "collapsed"
		default:
			format = "pprof"
		}
	}
	def := map[string]string{"pprof": "profile.pb.gz", "flamegraph": "profile.html", "speedscope": "profile.speedscope.json", "collapsed": "profile.folded"}
	d, ok := def[format]
	if !ok {
		return "", "", usageErrorf("--format %q: want one of %s", format, strings.Join(profile.Formats, ", "))
	}
	if out == "" {
		out = d
	}
	return format, out, nil
}

// recordProfile records from a pid, a URL or a launched command.
func recordProfile(ctx context.Context, stderr io.Writer, tf *targetFlags, kind string, cmdArgs []string) (*pprofile.Profile, error) {
	if tf.url != "" {
		if kind == "cpu" && tf.duration == 0 {
			tf.duration = 10 * time.Second
		}
		return profile.Fetch(ctx, tf.url, kind, tf.duration)
	}
	if kind != "cpu" {
		return nil, usageErrorf("--kind %s needs --url (a Go pprof endpoint); a process is sampled for CPU", kind)
	}
	if len(cmdArgs) == 0 {
		ss, err := profile.Start(ctx, tf.target(), tf.options())
		if err != nil {
			return nil, err
		}
		return recordSession(ctx, stderr, ss, tf.pid, tf.duration)
	}
	// A launched command is sampled from its first instruction, with every
	// thread (and, with --subprocesses, process) it starts.
	cmd := exec.Command(cmdArgs[0], cmdArgs[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, stderr
	ss, err := profile.StartCommand(ctx, cmd, tf.subprocesses, tf.options())
	if err != nil {
		return nil, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(2 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()
	return recordSession(ctx, stderr, ss, cmd.Process.Pid, tf.duration)
}

// recordSession waits for ctx, d (0: no limit) or the process's exit,
// then stops ss and returns its profile.
func recordSession(ctx context.Context, stderr io.Writer, ss *profile.Session, pid int, d time.Duration) (*pprofile.Profile, error) {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	start := time.Now()
	select {
	case <-ctx.Done():
	case <-timeout:
	case <-ss.Exited():
		fmt.Fprintf(stderr, "process %d exited after %.1fs; writing what was collected\n", pid, time.Since(start).Seconds())
	}
	p, err := ss.Stop()
	if err != nil {
		return nil, err
	}
	if lost := ss.Lost(); lost > 0 {
		fmt.Fprintf(stderr, "warning: the kernel dropped %d samples (ring buffers full); try a lower --rate\n", lost)
	}
	return p, nil
}

func writeProfileFile(path string, p *pprofile.Profile, format, sampleType string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	if err := profile.Write(f, p, format, sampleType); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func sampleCount(p *pprofile.Profile) int64 {
	var n int64
	for _, s := range p.Sample {
		n += s.Value[0]
	}
	return n
}

func profileTop(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("profile top")
	var tf targetFlags
	tf.register(fs, 0)
	interval := fs.Duration("interval", time.Second, "refresh interval")
	rows := fs.Int("n", 20, "number of functions shown")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if err := tf.check(fs.Args()); err != nil {
		return err
	}
	if len(fs.Args()) > 0 {
		return usageErrorf("top takes --pid or --url, not a command")
	}
	if *interval < 100*time.Millisecond {
		return usageErrorf("--interval %v: want at least 100ms", *interval)
	}
	o := tf.options()
	o.Chunk = *interval
	ss, err := profile.Start(ctx, tf.target(), o)
	if err != nil {
		return err
	}
	lt := liveTop{ss: ss, w: stdout, tty: isTerminal(stdout), rows: *rows, start: time.Now()}
	err = lt.run(ctx, tf.duration, *interval)
	if err == errExited {
		fmt.Fprintf(stderr, "process %d exited\n", tf.pid)
		return nil
	}
	return err
}

var errExited = errors.New("process exited")

// liveTop refreshes a top view from a session every interval.
type liveTop struct {
	ss    *profile.Session
	w     io.Writer
	tty   bool
	rows  int
	start time.Time
}

// run refreshes until ctx ends, d elapses (0: never) or the process exits;
// the last two show a final refresh. It always stops the session.
func (lt *liveTop) run(ctx context.Context, d, interval time.Duration) error {
	var deadline <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			lt.ss.Stop()
			return nil
		case <-deadline:
			return lt.final(nil)
		case <-lt.ss.Exited():
			return lt.final(errExited)
		case <-tick.C:
			p, err := lt.ss.Cut()
			if err == nil {
				err = showTop(lt.w, p, lt.tty, time.Since(lt.start), lt.rows)
			}
			if err != nil {
				lt.ss.Stop()
				return err
			}
		}
	}
}

// final stops the session, shows what it held, and returns reason.
func (lt *liveTop) final(reason error) error {
	p, err := lt.ss.Stop()
	if err != nil {
		return err
	}
	if err := showTop(lt.w, p, lt.tty, time.Since(lt.start), lt.rows); err != nil {
		return err
	}
	return reason
}

// showTop prints one refresh: on a terminal it redraws the screen, else it
// appends a snapshot headed by the elapsed time.
func showTop(w io.Writer, p *pprofile.Profile, tty bool, elapsed time.Duration, rows int) error {
	if tty {
		fmt.Fprint(w, "\x1b[H\x1b[2J")
	}
	fmt.Fprintf(w, "--- %.1fs: %d samples in the last interval%s\n", elapsed.Seconds(), sampleCount(p), cpuUse(p))
	return profile.WriteTop(w, p, rows)
}

// cpuUse describes how many CPUs the target kept busy, from the profile's
// cpu values over its duration, as ", 1.93 CPUs busy" (or "").
func cpuUse(p *pprofile.Profile) string {
	vi, err := profile.ValueIndex(p, "cpu")
	if err != nil || p.DurationNanos <= 0 {
		return ""
	}
	var ns int64
	for _, s := range p.Sample {
		ns += s.Value[vi]
	}
	return fmt.Sprintf(", %.2f CPUs busy", float64(ns)/float64(p.DurationNanos))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func profileDump(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("profile dump")
	pid := fs.Int("pid", 0, "process id whose threads to dump")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *pid <= 0 {
		return usageErrorf("give --pid PID")
	}
	stacks, err := profile.Dump(*pid)
	if err != nil {
		return err
	}
	return profile.WriteDump(stdout, *pid, stacks)
}

func profileLines(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("profile lines")
	fn := fs.String("function", "", "regular expression matching function names (required)")
	sampleType := fs.String("sample-type", "", "sample type to count (default: samples when present, else the profile's default)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one profile file: surge profile lines PROFILE --function REGEX")
	}
	if *fn == "" {
		return usageErrorf("--function REGEX is required")
	}
	re, err := regexp.Compile(*fn)
	if err != nil {
		return usageErrorf("--function %q: %v", *fn, err)
	}
	p, err := readProfile(fs.Arg(0))
	if err != nil {
		return err
	}
	st := *sampleType
	if st == "" && len(p.SampleType) > 0 && p.SampleType[0].Type == "samples" {
		st = "samples"
	}
	return profile.WriteLines(stdout, p, re, st)
}

func readProfile(path string) (*pprofile.Profile, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	defer f.Close()
	p, err := pprofile.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("reading profile %q: %w (want a pprof file, as written by 'surge profile record')", path, err)
	}
	return p, nil
}

func profileDiff(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("profile diff")
	out := fs.String("o", "diff.html", "differential flame graph output (HTML)")
	rows := fs.Int("n", 15, "rows in the top-changes table")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usageErrorf("want two profiles: surge profile diff BASE NEW")
	}
	base, err := readProfile(fs.Arg(0))
	if err != nil {
		return err
	}
	next, err := readProfile(fs.Arg(1))
	if err != nil {
		return err
	}
	f, err := os.Create(*out)
	if err != nil {
		return fmt.Errorf("creating %s: %w", *out, err)
	}
	if err := profile.WriteDiffFlameGraph(f, base, next); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	fmt.Fprintln(stdout, profile.Sentence(base, next))
	if err := profile.WriteChanges(stdout, base, next, *rows); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s\n", *out)
	return nil
}

func profileMem(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	fs := newFlagSet("profile mem")
	pid := fs.Int("pid", 0, "process id whose RSS/PSS to follow")
	url := fs.String("url", "", "Go service pprof base URL: fetch a heap profile")
	interval := fs.Duration("interval", time.Second, "time between readings")
	duration := fs.Duration("duration", 10*time.Second, "how long to follow (0: until the process exits or Ctrl-C)")
	fs.DurationVar(duration, "d", 10*time.Second, "shorthand for --duration")
	children := fs.Bool("subprocesses", false, "sum the process's descendants too")
	out := fs.String("o", "heap.html", "with --url: heap output file (format from the extension, as in record)")
	sampleType := fs.String("sample-type", "inuse_space", "with --url: inuse_space, inuse_objects, alloc_space or alloc_objects")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	switch {
	case (*pid > 0) == (*url != ""):
		return usageErrorf("give one of --pid PID and --url URL")
	case *interval < 10*time.Millisecond:
		return usageErrorf("--interval %v: want at least 10ms", *interval)
	}
	if *url != "" {
		return memHeap(ctx, stderr, *url, *out, *sampleType)
	}
	d := *duration
	if d == 0 {
		d = 1<<63 - 1
	}
	if err := profile.WriteMemHeader(stdout); err != nil {
		return err
	}
	return profile.MemTimeline(ctx, *pid, *children, *interval, d, func(mp profile.MemPoint) error {
		return profile.WriteMemPoint(stdout, mp)
	})
}

func memHeap(ctx context.Context, stderr io.Writer, url, out, sampleType string) error {
	f, path, err := outputFormat("", out)
	if err != nil {
		return err
	}
	p, err := profile.Fetch(ctx, url, "heap", 0)
	if err != nil {
		return err
	}
	if err := writeProfileFile(path, p, f, sampleType); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "wrote %s (%s of %s)\n", path, f, sampleType)
	return nil
}

// profileSubcommandNames lists the subcommands, for help text and tests.
func profileSubcommandNames() []string {
	names := make([]string, 0, len(profileSubcommands))
	for n := range profileSubcommands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
