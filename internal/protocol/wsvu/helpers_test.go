package wsvu

import (
	"crypto/x509"
	"io"
	"log"
	"net/http/httptest"
)

// quietLog drops the server's log of the handshakes the tests fail on
// purpose.
var quietLog = log.New(io.Discard, "", 0)

func poolOf(s *httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.Certificate())
	return p
}
