package profile

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/pprof/profile"
)

// Kinds are the profiles a Go service's net/http/pprof endpoint serves.
// "heap" holds both in-use and allocated space (sample types inuse_space,
// alloc_space …); "allocs" is the same data with alloc_space as default.
var Kinds = []string{"cpu", "heap", "allocs", "goroutine", "mutex", "block", "threadcreate"}

var httpClient = &http.Client{}

// Fetch downloads one profile of kind from the pprof base URL. d is the
// CPU profile's length and is ignored for the other kinds.
func Fetch(ctx context.Context, base, kind string, d time.Duration) (*profile.Profile, error) {
	u, err := kindURL(base, kind, d)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching %s profile: %w", kind, err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching %s profile from %s: %w", kind, u, unwrapURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching %s profile from %s: HTTP %d: %s", kind, u, resp.StatusCode, firstLine(resp.Body))
	}
	p, err := profile.Parse(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing %s profile from %s: %w", kind, u, err)
	}
	return p, nil
}

// FetchCPU downloads a CPU profile lasting d (rounded up to whole seconds,
// as net/http/pprof takes seconds).
func FetchCPU(ctx context.Context, base string, d time.Duration) (*profile.Profile, error) {
	return Fetch(ctx, base, "cpu", d)
}

func kindURL(base, kind string, d time.Duration) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("pprof URL %q: want http://host:port/debug/pprof", base)
	}
	base = strings.TrimRight(base, "/")
	switch kind {
	case "cpu":
		secs := int((d + time.Second - 1) / time.Second)
		return fmt.Sprintf("%s/profile?seconds=%d", base, max(secs, 1)), nil
	case "heap", "allocs", "goroutine", "mutex", "block", "threadcreate":
		return base + "/" + kind, nil
	}
	return "", fmt.Errorf("unknown profile kind %q (want one of %s)", kind, strings.Join(Kinds, ", "))
}

// unwrapURLError drops url.Error's repetition of method and URL.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

func firstLine(r io.Reader) string {
	sc := bufio.NewScanner(io.LimitReader(r, 4096))
	if sc.Scan() {
		return strings.TrimSpace(sc.Text())
	}
	return "(empty body)"
}

// checkURL makes sure base answers as a pprof index before a session
// starts, so a wrong address fails at once with one line.
func checkURL(ctx context.Context, base string) error {
	if _, err := kindURL(base, "heap", 0); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	u := strings.TrimRight(base, "/") + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("pprof URL %q: %w", base, err)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("reaching pprof endpoint %s: %w", u, unwrapURLError(err))
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("reaching pprof endpoint %s: HTTP %d (is net/http/pprof mounted there?)", u, resp.StatusCode)
	}
	return nil
}

// urlSession records a Go service's CPU by fetching back-to-back profiles
// of one chunk each; a cut merges the chunks finished since the last one.
type urlSession struct {
	base  string
	chunk time.Duration

	mu     sync.Mutex
	cond   *sync.Cond
	done   []*profile.Profile
	seq    int // chunks finished so far
	err    error
	cancel context.CancelFunc
	ended  bool
}

func startURL(ctx context.Context, base string, chunk time.Duration) (*urlSession, error) {
	if err := checkURL(ctx, base); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	u := &urlSession{base: base, chunk: chunk, cancel: cancel}
	u.cond = sync.NewCond(&u.mu)
	go u.loop(ctx)
	return u, nil
}

func (u *urlSession) loop(ctx context.Context) {
	defer func() {
		u.mu.Lock()
		u.ended = true
		u.cond.Broadcast()
		u.mu.Unlock()
	}()
	for ctx.Err() == nil {
		p, err := FetchCPU(ctx, u.base, u.chunk)
		u.mu.Lock()
		if err != nil && ctx.Err() == nil {
			u.err = err
		}
		if p != nil {
			u.done = append(u.done, p)
		}
		u.seq++
		u.cond.Broadcast()
		stop := u.err != nil
		u.mu.Unlock()
		if stop {
			return
		}
	}
}

// cut waits for the chunk in flight and merges the finished ones.
func (u *urlSession) cut() (*profile.Profile, error) {
	u.mu.Lock()
	want := u.seq + 1
	for u.seq < want && !u.ended {
		u.cond.Wait()
	}
	done, err := u.done, u.err
	u.done = nil
	u.mu.Unlock()
	if len(done) == 0 {
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("no CPU profile fetched from %s", u.base)
	}
	p, merr := profile.Merge(done)
	if merr != nil {
		return nil, fmt.Errorf("merging CPU profiles from %s: %w", u.base, merr)
	}
	return p, nil
}

// stop lets the chunk in flight finish, then ends the loop.
func (u *urlSession) stop() {
	u.mu.Lock()
	want := u.seq + 1
	for u.seq < want && !u.ended {
		u.cond.Wait()
	}
	u.mu.Unlock()
	u.cancel()
}
