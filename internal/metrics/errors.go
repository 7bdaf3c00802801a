package metrics

import (
	"sort"
	"strings"
	"sync"
)

// ErrorLog counts distinct errors: failed requests by message and script
// exceptions by message and location. Each distinct error is kept once with
// its count, so a loop that throws the same exception a million times costs
// one entry, and the summary shows it once.
type ErrorLog struct {
	mu      sync.Mutex
	max     int
	entries map[errorKey]*ErrorEntry
	other   int64
}

type errorKey struct{ kind, message, where string }

// ErrorEntry is one distinct error.
type ErrorEntry struct {
	Kind    string // "exception", "request", "check" …
	Message string
	Where   string // script file:line, or request name
	Count   int64
}

func newErrorLog(max int) *ErrorLog {
	return &ErrorLog{max: max, entries: map[errorKey]*ErrorEntry{}}
}

// Add counts one occurrence. Past the distinct-entry limit, new messages are
// counted together as "other". The local address of a socket error ("read
// tcp 127.0.0.1:40848->127.0.0.1:80: i/o timeout") is left out of the
// message, so that the same failure on different connections is one entry.
func (l *ErrorLog) Add(kind, message, where string) {
	message = withoutLocalAddr(message)
	k := errorKey{kind, message, where}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.entries[k]; ok {
		e.Count++
		return
	}
	if len(l.entries) >= l.max {
		l.other++
		return
	}
	l.entries[k] = &ErrorEntry{Kind: kind, Message: message, Where: where, Count: 1}
}

// Entries returns the distinct errors, most frequent first, and the count of
// those past the limit.
func (l *ErrorLog) Entries() (entries []ErrorEntry, other int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.entries {
		entries = append(entries, *e)
	}
	sort.Slice(entries, func(i, j int) bool {
		if entries[i].Count != entries[j].Count {
			return entries[i].Count > entries[j].Count
		}
		return entries[i].Message < entries[j].Message
	})
	return entries, l.other
}

// Count returns the total occurrences of kind.
func (l *ErrorLog) Count(kind string) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for k, e := range l.entries {
		if k.kind == kind {
			n += e.Count
		}
	}
	return n
}

func (l *ErrorLog) reset() {
	l.mu.Lock()
	l.entries = map[errorKey]*ErrorEntry{}
	l.other = 0
	l.mu.Unlock()
}

// withoutLocalAddr drops the "LOCAL->" of each "LOCAL->REMOTE" in a
// net.OpError's message: the local port differs on every connection.
func withoutLocalAddr(msg string) string {
	for {
		i := strings.Index(msg, "->")
		if i < 0 {
			return msg
		}
		j := strings.LastIndexByte(msg[:i], ' ') + 1
		msg = msg[:j] + msg[i+2:]
	}
}
