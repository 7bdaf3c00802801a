package threads

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ownListener reports whether this process listens on TCP port: the
// server under test then runs in this process (surge demo, a Go test with
// httptest), and GOMAXPROCS governs it as well as the load. It reads
// /proc/net/tcp{,6} for the listening sockets' inodes and looks for one of
// them among /proc/self/fd.
func ownListener(port int) bool {
	inodes := map[string]bool{}
	for _, f := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		listeners(f, port, inodes)
	}
	if len(inodes) == 0 {
		return false
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return false
	}
	for _, fd := range fds {
		link, err := os.Readlink("/proc/self/fd/" + fd.Name())
		if err != nil {
			continue
		}
		if ino, ok := strings.CutPrefix(link, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
			return true
		}
	}
	return false
}

// listeners adds the inodes of the sockets in the table at path that
// listen on port.
func listeners(path string, port int, inodes map[string]bool) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	hexPort := fmt.Sprintf(":%04X", port)
	sc := bufio.NewScanner(f)
	sc.Scan() // the header
	for sc.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || fields[3] != "0A" || !strings.HasSuffix(fields[1], hexPort) {
			continue
		}
		if _, err := strconv.ParseUint(fields[9], 10, 64); err == nil {
			inodes[fields[9]] = true
		}
	}
}
