package labsvc

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestNewTLSCertificate(t *testing.T) {
	before := time.Now()
	m, err := NewTLS(SiteName)
	if err != nil {
		t.Fatal(err)
	}
	c := m.Cert.Leaf
	key, _ := c.PublicKey.(*ecdsa.PublicKey)
	for _, tc := range []struct {
		what string
		ok   bool
	}{
		{"ECDSA P-256 key", key != nil && key.Curve == elliptic.P256() && m.Cert.PrivateKey != nil},
		{"common name " + SiteName, c.Subject.CommonName == SiteName},
		{"organisation " + CertOrg, slices.Equal(c.Subject.Organization, []string{CertOrg})},
		{"DNS name " + SiteName + " only", slices.Equal(c.DNSNames, []string{SiteName})},
		{"valid from a minute ago", !c.NotBefore.After(before.Add(-time.Minute+time.Second)) && c.NotBefore.After(before.Add(-time.Minute-2*time.Second))},
		{"for an hour", c.NotAfter.Sub(c.NotBefore) == time.Hour+time.Minute},
		{"self-signed CA", c.IsCA && c.BasicConstraintsValid && bytes.Equal(c.RawIssuer, c.RawSubject)},
		{"signs and certifies", c.KeyUsage == x509.KeyUsageDigitalSignature|x509.KeyUsageCertSign},
		{"server auth", slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth})},
		{"64-bit serial", c.SerialNumber.Sign() >= 0 && c.SerialNumber.Cmp(new(big.Int).Lsh(big.NewInt(1), 64)) < 0},
		{"the DER is the leaf", len(m.Cert.Certificate) == 1 && bytes.Equal(m.Cert.Certificate[0], c.Raw)},
	} {
		if !tc.ok {
			t.Errorf("certificate: not %s", tc.what)
		}
	}
	if _, err := c.Verify(x509.VerifyOptions{DNSName: SiteName, Roots: m.Pool}); err != nil {
		t.Errorf("the pool does not trust the certificate: %v", err)
	}
	if m2, _ := NewTLS(SiteName); m2.Cert.Leaf.SerialNumber.Cmp(c.SerialNumber) == 0 {
		t.Error("two certificates share a serial number")
	}
}

// syncBuffer is a key log two goroutines write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestTLSHandshake: the client trusts the lab's certificate only with its
// pool, speaks TLS 1.3 and HTTP/1.1, and both sides log their secrets.
func TestTLSHandshake(t *testing.T) {
	m, err := NewTLS(SiteName)
	if err != nil {
		t.Fatal(err)
	}
	var srvLog, cliLog syncBuffer
	_, port := startWeb(t, "127.0.0.1", Shop(), m.ServerConfig(&srvLog))
	hosts := map[string]netip.Addr{SiteName: netip.MustParseAddr("127.0.0.1")}
	url := "https://" + SiteName + ":" + port + "/index.html"
	for _, tc := range []struct {
		name    string
		cfg     *tls.Config
		wantErr string
	}{
		{"trusting the pool", m.ClientConfig(&cliLog), ""},
		{"without the pool", &tls.Config{MinVersion: tls.VersionTLS13}, "certificate signed by unknown authority"},
		{"asking TLS 1.2 only", &tls.Config{MaxVersion: tls.VersionTLS12, RootCAs: m.Pool}, "protocol version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cl, tr := NewClient(dialer(), ClientOptions{Hosts: hosts, TLS: tc.cfg})
			defer tr.CloseIdleConnections()
			resp, body, err := Fetch(context.Background(), cl, "GET", url, "")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("Fetch: %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 || resp.Proto != "HTTP/1.1" || resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("Welcome")) {
				t.Errorf("%s %d over %v", resp.Proto, resp.StatusCode, resp.TLS)
			}
		})
	}
	for name, l := range map[string]*syncBuffer{"server": &srvLog, "client": &cliLog} {
		if !strings.Contains(l.String(), "CLIENT_HANDSHAKE_TRAFFIC_SECRET") || !strings.Contains(l.String(), "SERVER_TRAFFIC_SECRET_0") {
			t.Errorf("%s key log lacks TLS 1.3 secrets: %q", name, l.String())
		}
	}
}

func TestTLSConfigs(t *testing.T) {
	m, err := NewTLS(SiteName)
	if err != nil {
		t.Fatal(err)
	}
	var w bytes.Buffer
	s, c := m.ServerConfig(&w), m.ClientConfig(&w)
	if s.MinVersion != tls.VersionTLS13 || len(s.Certificates) != 1 || !slices.Equal(s.NextProtos, []string{"http/1.1"}) || s.KeyLogWriter != &w {
		t.Errorf("server config %+v", s)
	}
	if c.MinVersion != tls.VersionTLS13 || c.RootCAs != m.Pool || c.KeyLogWriter != &w || len(c.NextProtos) != 0 {
		t.Errorf("client config %+v", c)
	}
	if m.ServerConfig(nil).KeyLogWriter != nil {
		t.Error("a nil key log is not nil in the config")
	}
}
