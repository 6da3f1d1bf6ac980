package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/swillorg/swill-go/internal/demosvc"
	"github.com/swillorg/swill-go/swill"
)

// startTLS serves the demo over wss:// with httptest's certificate; with
// clientCAs, the server requires a client certificate signed by them.
func startTLS(t *testing.T, clientCAs *x509.CertPool) (url, caFile string) {
	t.Helper()
	srv := swill.NewServer()
	require.NoError(t, demosvc.Register(srv))
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs := httptest.NewUnstartedServer(mux)
	if clientCAs != nil {
		hs.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs}
	}
	hs.StartTLS()
	t.Cleanup(func() {
		hs.Close()
		_ = srv.Shutdown(t.Context())
	})
	caFile = filepath.Join(t.TempDir(), "server-ca.pem")
	writePEM(t, caFile, "CERTIFICATE", hs.Certificate().Raw)
	return "wss" + strings.TrimPrefix(hs.URL, "https") + "/ws", caFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// clientCert makes a CA and a client certificate it signs, written as PEM
// files; it returns the CA's pool and the files.
func clientCert(t *testing.T) (pool *x509.CertPool, certFile, keyFile string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		require.NoError(t, err)
		return k
	}
	caKey, key := newKey(), newKey()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, err = x509.ParseCertificate(caDER)
	require.NoError(t, err)
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "swill client"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem")
	writePEM(t, certFile, "CERTIFICATE", leafDER)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	pool = x509.NewCertPool()
	pool.AddCert(ca)
	return pool, certFile, keyFile
}

func TestCallTLS(t *testing.T) {
	t.Parallel()
	url, caFile := startTLS(t, nil)

	// An unknown CA is refused, as it should be.
	r := swillCmd(t, nil, "call", "-kind", "unary", url, "add", "[1, 2]")
	assert.Equal(t, exitConnection, r.code, r.stderr)
	assert.Contains(t, r.stderr, "certificate")

	r = swillCmd(t, nil, "call", "-insecure", url, "add", "[1, 2]")
	assert.Equal(t, result{stdout: "3\n"}, r)
	r = swillCmd(t, nil, "call", "-cacert", caFile, url, "add", "[1, 2]")
	assert.Equal(t, result{stdout: "3\n"}, r)
	r = swillCmd(t, nil, "list", "-cacert", caFile, url)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "countdown")

	r = swillCmd(t, nil, "call", "-cacert", filepath.Join(t.TempDir(), "none.pem"), url, "add", "[1, 2]")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "swill: -cacert: ")
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	r = swillCmd(t, nil, "call", "-cacert", notPEM, url, "add", "[1, 2]")
	assert.Equal(t, result{stderr: "swill: -cacert: " + notPEM + " holds no PEM certificate\n", code: exitUsage}, r)
}

func TestCallClientCertificate(t *testing.T) {
	t.Parallel()
	pool, certFile, keyFile := clientCert(t)
	url, caFile := startTLS(t, pool)

	// Without a certificate the server refuses the handshake.
	r := swillCmd(t, nil, "call", "-kind", "unary", "-cacert", caFile, url, "add", "[1, 2]")
	assert.Equal(t, exitConnection, r.code, r.stderr)

	r = swillCmd(t, nil, "call", "-cacert", caFile, "-cert", certFile, "-key", keyFile, url, "add", "[1, 2]")
	assert.Equal(t, result{stdout: "3\n"}, r)

	r = swillCmd(t, nil, "call", "-cacert", caFile, "-cert", certFile, url, "add", "[1, 2]")
	assert.Equal(t, result{stderr: "swill: -cert and -key go together: give both or neither\n", code: exitUsage}, r)
	r = swillCmd(t, nil, "call", "-cert", keyFile, "-key", keyFile, url, "add", "[1, 2]")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "swill: -cert/-key: ")
}
