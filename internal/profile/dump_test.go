package profile

import (
	"bytes"
	"strings"
	"testing"
)

func TestDumpShowsLeafAndRecoveredCaller(t *testing.T) {
	bin := buildGo(t, "hot")
	cmd := startReady(t, bin, "30s")
	pid := cmd.Process.Pid
	// The busy thread is in main.hot about 99% of the time; retry a few
	// dumps in case one lands elsewhere.
	var last string
	for try := 0; try < 5; try++ {
		stacks, err := Dump(pid)
		if err != nil {
			t.Fatal(err)
		}
		if len(stacks) != len(tasks(pid)) {
			t.Fatalf("dumped %d threads, process has %d", len(stacks), len(tasks(pid)))
		}
		var b bytes.Buffer
		WriteDump(&b, pid, stacks)
		last = b.String()
		for _, ts := range stacks {
			if len(ts.Frames) >= 2 && strings.HasPrefix(ts.Frames[0], "main.hot (") && strings.HasPrefix(ts.Frames[1], "main.main (") {
				return
			}
		}
	}
	t.Fatalf("no thread shows main.hot called from main.main:\n%s", last)
}

func TestDumpMissingProcess(t *testing.T) {
	if _, err := Dump(1 << 30); err == nil || !strings.Contains(err.Error(), "no process with pid") {
		t.Fatalf("err = %v", err)
	}
}
