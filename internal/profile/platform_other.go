//go:build !linux

package profile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"time"
)

// errUnsupported: sampling processes needs Linux's perf_event_open; Go
// services (URL targets) and every output format work everywhere.
var errUnsupported = fmt.Errorf("sampling a process needs Linux (perf_event_open); this is %s: profile a Go service with --url instead", runtime.GOOS)

// ErrNotPermitted is returned (wrapped) when the kernel refuses sampling.
var ErrNotPermitted = errors.New("not permitted")

type sampler struct{ exit chan struct{} }

func newSampler(pid, rate int, children, kernel bool) (*sampler, error) { return nil, errUnsupported }

func (s *sampler) take() (map[string]*stackCount, map[int][]regions, map[int]string, time.Duration) {
	return nil, nil, nil, 0
}
func (s *sampler) close()              {}
func (s *sampler) lostSamples() uint64 { return 0 }

func descendants(pid int) []int { return []int{pid} }

// StartCommand needs Linux.
func StartCommand(ctx context.Context, cmd *exec.Cmd, subprocesses bool, o Options) (*Session, error) {
	return nil, errUnsupported
}

// ThreadStack is the user stack of one thread at the moment of a dump.
type ThreadStack struct {
	TID    int
	Name   string
	State  string
	Frames []string
	Err    string
}

// Dump needs Linux.
func Dump(pid int) ([]ThreadStack, error) { return nil, errUnsupported }

// WriteDump prints stacks like py-spy dump.
func WriteDump(w io.Writer, pid int, stacks []ThreadStack) error { return errUnsupported }

func fileKey(path string, st os.FileInfo) string {
	return fmt.Sprintf("%s:%d:%d", path, st.Size(), st.ModTime().UnixNano())
}
