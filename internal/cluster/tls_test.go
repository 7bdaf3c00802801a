package cluster

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surgeload/surge/internal/engine"
)

// writeCert writes a certificate (signed by parent, or self-signed when
// parent is nil) and its key as PEM files.
func writeCert(t *testing.T, dir, name string, tmpl *x509.Certificate, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(filepath.Join(dir, name+".pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, name+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	c, _ := x509.ParseCertificate(der)
	return c, key
}

func TestClusterMutualTLS(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	notAfter := time.Now().Add(time.Hour)
	ca, caKey := writeCert(t, dir, "ca", &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "surge test CA"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: notAfter, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	writeCert(t, dir, "master", &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "master"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: notAfter, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey)
	writeCert(t, dir, "worker", &x509.Certificate{SerialNumber: big.NewInt(3), Subject: pkix.Name{CommonName: "worker"},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, KeyUsage: x509.KeyUsageDigitalSignature}, ca, caKey)

	srvTLS, err := ServerTLS(p("master.pem"), p("master.key"), p("ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	tg := newTarget(t)
	ctx := context.Background()
	c := startMaster(t, ctx, 1, func(m *MasterConfig) { m.TLS = srvTLS })
	load := loader(tg.URL, engine.SharedIterations{VUs: 1, Iterations: 5})

	// without a client certificate, and in plaintext: refused
	noCert, _ := ClientTLS(false, p("ca.pem"), "", "", "")
	for name, tc := range map[string]*WorkerConfig{"no client certificate": {TLS: noCert}, "plaintext": {}} {
		tc.Master, tc.Token, tc.Version, tc.Load, tc.ConnectTimeout = c.addr, "s3cret", "test", load, 500*time.Millisecond
		if _, err := RunWorker(ctx, *tc); err == nil || !strings.Contains(err.Error(), "reaching the master") {
			t.Errorf("%s: err = %v, want the connection refused", name, err)
		}
	}
	withCert, err := ClientTLS(false, p("ca.pem"), p("worker.pem"), p("worker.key"), "")
	if err != nil {
		t.Fatal(err)
	}
	res, err := RunWorker(ctx, WorkerConfig{Master: c.addr, Token: "s3cret", Version: "test", Load: load, TLS: withCert, ConnectTimeout: 5 * time.Second})
	if err != nil || res.Requests != 5 {
		t.Fatalf("worker with a client certificate: %+v, %v", res, err)
	}
	waitOutcome(t, c)
}

func TestTLSConfigErrors(t *testing.T) {
	if _, err := ServerTLS("a.pem", "", ""); err == nil || !strings.Contains(err.Error(), "both --tls-cert and --tls-key") {
		t.Errorf("cert without key: %v", err)
	}
	if _, err := ServerTLS("nope.pem", "nope.key", ""); err == nil || !strings.Contains(err.Error(), "loading the TLS certificate") {
		t.Errorf("missing files: %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.pem")
	os.WriteFile(bad, []byte("not pem"), 0o600)
	if _, err := ClientTLS(false, bad, "", "", ""); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad CA: %v", err)
	}
	if c, err := ClientTLS(false, "", "", "", ""); c != nil || err != nil {
		t.Errorf("no TLS flags: %v, %v; want plaintext", c, err)
	}
}
