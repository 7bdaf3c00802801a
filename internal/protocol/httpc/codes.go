package httpc

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"syscall"

	"golang.org/x/net/http2"
)

// k6's error codes (https://grafana.com/docs/k6/latest/javascript-api/error-codes/),
// so that error_code tags mean the same thing in surge and in k6.
const (
	CodeGeneric             = 1000
	CodeInvalidURL          = 1020
	CodeTimeout             = 1050
	CodeDNS                 = 1100
	CodeDNSNoIP             = 1101
	CodeTCP                 = 1200
	CodeBrokenPipe          = 1201
	CodeDial                = 1210
	CodeDialTimeout         = 1211
	CodeDialRefused         = 1212
	CodeReset               = 1220
	CodeTLS                 = 1300
	CodeTLSUnknownAuthority = 1310
	CodeTLSHostname         = 1311
	CodeHTTP2               = 1600
	CodeHTTP2GoAway         = 1610 // 1611+h2 error code for a specific one
	CodeHTTP2Stream         = 1630 // 1631+h2 error code
	CodeHTTP2Connection     = 1650 // 1651+h2 error code
	CodeDecompression       = 1701
)

// Error is the error of a failed request: what was being done, the k6 error
// code, and the cause.
type Error struct {
	Code int    // one of the Code constants
	Op   string // "GET http://host/path"
	Err  error
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }

func (e *Error) Unwrap() error { return e.Err }

// phase says where a request failed; the same cause maps to different codes
// in different phases (a timeout while dialing is 1211, afterwards 1050).
type phase int

const (
	phaseDNS phase = iota
	phaseDial
	phaseTLS
	phaseExchange
)

// classify maps an error from a phase to a k6 error code.
func classify(ph phase, err error) int {
	if code := http2Code(err); code != 0 {
		return code
	}
	switch ph {
	case phaseDNS:
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			return CodeDNSNoIP
		}
		if isTimeout(err) {
			return CodeTimeout
		}
		return CodeDNS
	case phaseDial:
		switch {
		case isTimeout(err):
			return CodeDialTimeout
		case errors.Is(err, syscall.ECONNREFUSED):
			return CodeDialRefused
		}
		return CodeDial
	case phaseTLS:
		if isTimeout(err) {
			return CodeTimeout
		}
		return tlsCode(err)
	}
	switch {
	case isTimeout(err):
		return CodeTimeout
	case anyError(err, isTLSAlert):
		// A TLS alert after the handshake: under TLS 1.3 a server rejects
		// a client certificate on the first read.
		return CodeTLS
	case errors.Is(err, syscall.ECONNRESET):
		return CodeReset
	case errors.Is(err, syscall.EPIPE):
		return CodeBrokenPipe
	}
	return CodeGeneric
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func tlsCode(err error) int {
	var unknown x509.UnknownAuthorityError
	var hostname x509.HostnameError
	switch {
	case errors.As(err, &unknown):
		return CodeTLSUnknownAuthority
	case errors.As(err, &hostname):
		return CodeTLSHostname
	}
	return CodeTLS
}

func http2Code(err error) int {
	var se http2.StreamError
	var ga http2.GoAwayError
	var ce http2.ConnectionError
	switch {
	case errors.As(err, &se):
		return h2Specific(CodeHTTP2Stream, uint32(se.Code))
	case errors.As(err, &ga):
		return h2Specific(CodeHTTP2GoAway, uint32(ga.ErrCode))
	case errors.As(err, &ce):
		return h2Specific(CodeHTTP2Connection, uint32(ce))
	}
	return 0
}

// h2Specific returns base+1+code for the 14 defined HTTP/2 error codes and
// base for the others, as k6 numbers them.
func h2Specific(base int, code uint32) int {
	if code <= 0xd {
		return base + 1 + int(code)
	}
	return base
}

func isTLSAlert(err error) bool {
	op, ok := err.(*net.OpError)
	return ok && op.Op == "remote error"
}

// anyError reports whether f holds for err or any error it wraps, following
// every branch of a joined error (errors.As stops at the first match of a
// type, and a TLS alert may sit behind a write error).
func anyError(err error, f func(error) bool) bool {
	for err != nil {
		if f(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if anyError(e, f) {
					return true
				}
			}
			return false
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		default:
			return false
		}
	}
	return false
}
