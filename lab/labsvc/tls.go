package labsvc

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"time"
)

// CertOrg is the organisation in the subject of every certificate NewTLS
// makes. Over TLS 1.3 it never shows on the wire: the certificate travels
// encrypted.
const CertOrg = "netlab lesson"

// TLS is the material for one TLS server and its clients: a certificate
// made at run time and the pool that trusts it. No certificate authority a
// browser knows signed it; a client trusts it only because it is given Pool.
type TLS struct {
	Cert tls.Certificate
	Pool *x509.CertPool
}

// NewTLS makes a self-signed ECDSA P-256 certificate for host (its common
// name and only DNS name; organisation CertOrg), valid from a minute ago
// for an hour, a CA for itself, and the pool a client needs to trust it.
func NewTLS(host string) (*TLS, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("tls key for %s: %w", host, err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, fmt.Errorf("tls serial for %s: %w", host, err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: host, Organization: []string{CertOrg}},
		DNSNames:              []string{host},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("tls certificate for %s: %w", host, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("tls certificate for %s: %w", host, err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &TLS{Cert: tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}, Pool: pool}, nil
}

// ServerConfig is a TLS 1.3 server configuration presenting the
// certificate and offering HTTP/1.1 by ALPN. It writes the session secrets
// to keyLog, as a browser does with SSLKEYLOGFILE, so a decoder given the
// log can open the encrypted handshake; nil writes them nowhere.
func (m *TLS) ServerConfig(keyLog io.Writer) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{m.Cert},
		NextProtos: []string{"http/1.1"}, KeyLogWriter: keyLog,
	}
}

// ClientConfig is a TLS 1.3 client configuration that trusts the
// certificate (and nothing else) and writes its secrets to keyLog (nil:
// nowhere).
func (m *TLS) ClientConfig(keyLog io.Writer) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: m.Pool, KeyLogWriter: keyLog}
}
