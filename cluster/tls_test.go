package cluster_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley/client"
	"github.com/parleyhq/parley/internal/await"
	"github.com/parleyhq/parley/internal/redistest"
	"github.com/parleyhq/parley/redisstore"
	"github.com/parleyhq/parley/wire"
)

// testCA is a certificate authority made for one test. Not tlsconf.Dev: a dev certificate is a
// self-signed leaf, and trusting it as -node-ca would test pinning the nodes' own certificate,
// not what -node-ca is documented as (a private CA that signs the nodes' certificates), which
// a node that compared the peer's certificate with the file would pass.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	File string // its certificate, PEM
	Pool *x509.CertPool
}

func newCA(t *testing.T, dir, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	ca := &testCA{cert: cert, key: key, File: filepath.Join(dir, name+"-ca.pem"), Pool: x509.NewCertPool()}
	ca.Pool.AddCert(cert)
	writePEM(t, ca.File, "CERTIFICATE", der)
	return ca
}

// leaf issues a server certificate for 127.0.0.1 and localhost and writes it and its key.
func (ca *testCA) leaf(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return certFile, keyFile
}

func writePEM(t *testing.T, file, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestNodesOverTLS: nodes that serve https relay to each other over wss, verifying each other's
// certificate against -node-ca. A node that does not trust the owner's certificate refuses the
// join with unavailable, says why in its log once (not once a join), and takes nothing over
// from the owner, which is alive.
func TestNodesOverTLS(t *testing.T) {
	dir := t.TempDir()
	ca, other := newCA(t, dir, "nodes"), newCA(t, dir, "other")
	rs := redistest.Start(t)
	store := redisstore.New(redisClient(t, rs), nil)
	cert, key := ca.leaf(t, dir, "node")
	tlsFlags := []string{"-tls-cert", cert, "-tls-key", key}

	// The owner starts alone, so that the meeting is placed on it.
	owner := startNode(t, "node-1", rs.URL(), append(tlsFlags, "-node-ca", ca.File)...)
	if !strings.HasPrefix(owner.URL, "https://") {
		t.Fatalf("node-1 serves %s, want https", owner.URL)
	}
	browser := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.Pool}}}
	defer browser.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(t.Context(), 2*await.Limit)
	defer cancel()
	created, err := client.API{BaseURL: owner.URL, HTTPClient: browser}.CreateMeeting(ctx, "Ada")
	if err != nil {
		t.Fatal(err)
	}
	trusting := startNode(t, "node-2", rs.URL(), append(tlsFlags, "-node-ca", ca.File)...)
	wrongCA := startNode(t, "node-3", rs.URL(), append(tlsFlags, "-node-ca", other.File)...)

	join := func(p *proc, name string) (*client.Client, error) {
		return client.Dial(ctx, client.Options{BaseURL: p.URL, MeetingID: created.MeetingID, Name: name, Loopback: true, HTTPClient: browser})
	}
	c, err := join(trusting, "Grace")
	if err != nil {
		t.Fatalf("a join relayed over wss by a node that trusts the CA: %v", err)
	}
	trusting.http = browser
	await.Until(t, "node-2 to relay the session", func() bool { return trusting.metric(ctx, "parley_relayed_sessions") == 1 })
	c.Close()

	for _, name := range []string{"Edsger", "Barbara"} {
		_, err := join(wrongCA, name)
		var pe *client.ProtocolError
		if client.ErrorCode(err) != string(wire.CodeUnavailable) || !errors.As(err, &pe) || pe.Message == "" {
			t.Fatalf("%s through the node with the wrong CA: %v; want unavailable with a message", name, err)
		}
	}
	// The meeting's details, which only the owner can give, come from the record instead.
	if _, err := (client.API{BaseURL: wrongCA.URL, HTTPClient: browser}).GetMeeting(ctx, created.MeetingID); err != nil {
		t.Fatalf("GET the meeting through the node with the wrong CA: %v", err)
	}
	var certLines int
	for _, l := range wrongCA.logLines() {
		if strings.Contains(l, "node-to-node TLS") && strings.Contains(l, "certificate") {
			certLines++
		}
	}
	if certLines != 1 {
		t.Fatalf("node-3 logged the certificate failure %d times, want once:\n%s", certLines, wrongCA.log())
	}
	if o, err := store.Owner(ctx, created.MeetingID); err != nil || o != owner.ID {
		t.Fatalf("after the failed relays the meeting is owned by %q (%v); want node-1, which lives", o, err)
	}
}
