//go:build !linux

package threads

// ownListener cannot tell outside Linux; a local server is taken to be
// another process.
func ownListener(port int) bool { return false }
