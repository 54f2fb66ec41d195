package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Dev certificate files, in the directory given to Dev.
const (
	DevCertFile = "dev-cert.pem"
	DevKeyFile  = "dev-key.pem"
)

const (
	devValidity = 365 * 24 * time.Hour
	// devRenewal is how close to expiry a cached certificate is made anew.
	devRenewal = 30 * 24 * time.Hour
)

// DevCert is a self-signed certificate for this machine's names and addresses, so that browsers
// on other machines of the network get a secure context (camera and microphone) after accepting
// it once. It is made on the first start and kept in a directory; it is made anew when the
// machine's names or addresses are no longer all in it, or it nears its end.
type DevCert struct {
	cert *tls.Certificate
	// CertFile is where the certificate is kept (PEM).
	CertFile string
	// Created says the certificate was made on this start (browsers will ask again).
	Created bool
}

// Dev returns the certificate kept in dir if it covers names and ips and is not near its end,
// or else makes, keeps and returns a new one. names and ips are what browsers will use to reach
// this machine (see LocalNames and LocalAddrs).
func Dev(dir string, names []string, ips []net.IP, now time.Time) (*DevCert, error) {
	certFile, keyFile := filepath.Join(dir, DevCertFile), filepath.Join(dir, DevKeyFile)
	// A missing, damaged or outgrown certificate is replaced.
	if pair, err := tls.LoadX509KeyPair(certFile, keyFile); err == nil && devCovers(pair.Leaf, names, ips, now) {
		return &DevCert{cert: &pair, CertFile: certFile}, nil
	}
	certPEM, keyPEM, err := newSelfSigned(names, ips, now)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dev certificate directory: %w", err)
	}
	if err := writeAtomic(keyFile, keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeAtomic(certFile, certPEM, 0o644); err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("dev certificate: %w", err)
	}
	return &DevCert{cert: &pair, CertFile: certFile, Created: true}, nil
}

// GetCertificate returns the dev certificate, whatever the client asked for.
func (d *DevCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) { return d.cert, nil }

// Leaf returns the certificate, parsed.
func (d *DevCert) Leaf() *x509.Certificate { return d.cert.Leaf }

// Fingerprint is the SHA-256 fingerprint of the certificate as browsers show it (colon-separated
// hex), for checking the certificate a browser warns about is this one.
func (d *DevCert) Fingerprint() string { return Fingerprint(d.cert.Leaf) }

// Fingerprint returns the SHA-256 fingerprint of cert in browsers' notation.
func Fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// devCovers reports whether leaf is a usable dev certificate for names and ips at now.
func devCovers(leaf *x509.Certificate, names []string, ips []net.IP, now time.Time) bool {
	if leaf == nil || now.Before(leaf.NotBefore) || now.Add(devRenewal).After(leaf.NotAfter) {
		return false
	}
	for _, n := range names {
		if !slices.Contains(leaf.DNSNames, n) {
			return false
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(leaf.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

func newSelfSigned(names []string, ips []net.IP, now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("dev certificate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("dev certificate serial: %w", err)
	}
	cn := "Parley dev"
	if len(names) > 0 {
		cn = "Parley dev (" + names[0] + ")"
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Parley -dev"}},
		NotBefore:             now.Add(-time.Hour), // a clock a little behind still accepts it
		NotAfter:              now.Add(devValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("dev certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("dev certificate key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// writeAtomic writes data to path through a temporary file, so a reader never sees half of it.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path))
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// LocalNames are the names a dev certificate is made for: localhost, the machine's host name and
// that name under .local (how other machines reach it by mDNS).
func LocalNames() []string {
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil && h != "" && h != "localhost" {
		h = strings.ToLower(strings.TrimSuffix(h, "."))
		names = append(names, h)
		if !strings.Contains(h, ".") {
			names = append(names, h+".local")
		}
	}
	return names
}

// LocalAddrs returns the unicast addresses other machines may reach this one at: every address
// of every interface that is up, except loopback and link-local ones, IPv4 first.
func LocalAddrs() ([]net.IP, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	var out []net.IP
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 {
			continue
		}
		addrs, err := ifc.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok {
				continue
			}
			ip := ipn.IP
			if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
				continue
			}
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			if !slices.ContainsFunc(out, ip.Equal) {
				out = append(out, ip)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b net.IP) int {
		return boolCmp(a.To4() == nil, b.To4() == nil)
	})
	return out, nil
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// DevAddrs is LocalAddrs with the loopback addresses added, for a dev certificate.
func DevAddrs() ([]net.IP, error) {
	ips, err := LocalAddrs()
	return append([]net.IP{net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}, ips...), err
}
