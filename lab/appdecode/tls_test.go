package appdecode

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/decode"
)

// chunk is one Write of one side of a TLS connection.
type chunk struct {
	side int // 0 client, 1 server
	b    []byte
}

// recorder keeps the writes of both sides in the order they started.
type recorder struct {
	mu     sync.Mutex
	chunks []chunk
}

type recConn struct {
	net.Conn
	side int
	rec  *recorder
}

func (c recConn) Write(b []byte) (int, error) {
	c.rec.mu.Lock()
	c.rec.chunks = append(c.rec.chunks, chunk{c.side, append([]byte(nil), b...)})
	c.rec.mu.Unlock()
	return c.Conn.Write(b)
}

// tlsExchange runs a real TLS 1.3 handshake (crypto/tls, a certificate made
// here) and one request and response over it, and returns what each side
// wrote and the key log both sides filled.
func tlsExchange(t *testing.T, request, response string) ([]chunk, *KeyLog) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "shop.lab"}, DNSNames: []string{"shop.lab"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	keys := NewKeyLog()
	rec := &recorder{}
	a, b := net.Pipe()
	srv := tls.Server(recConn{b, 1, rec}, &tls.Config{MinVersion: tls.VersionTLS13, KeyLogWriter: keys,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}})
	cli := tls.Client(recConn{a, 0, rec}, &tls.Config{MinVersion: tls.VersionTLS13, ServerName: "shop.lab", RootCAs: pool, KeyLogWriter: keys})
	done := make(chan error, 1)
	go func() {
		buf := make([]byte, len(request))
		if _, err := io.ReadFull(srv, buf); err != nil {
			done <- err
			return
		}
		_, err := srv.Write([]byte(response))
		done <- err
	}()
	if _, err := cli.Write([]byte(request)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(cli, make([]byte, len(response))); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, srv)
	cli.Close()
	srv.Close()
	return rec.chunks, keys
}

// replay sends the chunks over a TCP connection through the pipeline.
func replay(t *testing.T, chunks []chunk, keys *KeyLog, mangle func(i int, b []byte) []byte) *pipeline {
	pl := newPipeline(t, layers.LinkTypeEthernet, keys)
	c := newConn(t, pl, "127.0.0.1:40000", "127.0.0.80:443")
	c.handshake()
	for i, ch := range chunks {
		b := ch.b
		if mangle != nil {
			b = mangle(i, append([]byte(nil), b...))
		}
		c.send(ch.side, string(b), 65000)
	}
	return pl
}

func TestTLS13WithKeyLog(t *testing.T) {
	chunks, keys := tlsExchange(t, "GET /secret HTTP/1.1\r\nHost: shop.lab\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	pl := replay(t, chunks, keys, nil)
	all := join(pl.summaries())
	t.Logf("\n%s", all)
	for _, want := range []string{
		"TLS ClientHello sni=shop.lab",
		"TLS ServerHello TLS 1.3",
		"{EncryptedExtensions, Certificate, CertificateVerify, Finished",
		"TLS ChangeCipherSpec, {Finished}",
		"{Application Data 40 B}",
		"{Alert close_notify}",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in\n%s", want, all)
		}
	}
	var f decode.AppFields
	for _, p := range pl.pkts {
		if p.App != nil && strings.Contains(p.App.Summary(), "Certificate,") {
			f = p.App.First().Fields
		}
	}
	if f.Get("cert_subject") != "CN=shop.lab" || f.Get("cert_key") != "ECDSA P-256" || f.Get("cert_self_signed") != "yes" || f.Get("version") != "TLS 1.3" {
		t.Errorf("fields %v", f)
	}
	found := false
	for _, p := range pl.pkts {
		if p.App != nil && p.App.First().Fields.Get("decrypted") == `"GET /secret HTTP/1.1"` {
			found = true
		}
	}
	if !found {
		t.Error("the request was not opened")
	}
}

func TestTLS13WithoutKeys(t *testing.T) {
	chunks, _ := tlsExchange(t, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n")
	pl := replay(t, chunks, nil, nil)
	all := join(pl.summaries())
	if !strings.Contains(all, "TLS ServerHello TLS 1.3, ChangeCipherSpec, Application Data") || strings.Contains(all, "Certificate") || strings.Contains(all, "{") {
		t.Errorf("without keys only the records' outer types can show:\n%s", all)
	}
}

func TestTLSCorruptRecord(t *testing.T) {
	chunks, keys := tlsExchange(t, "GET / HTTP/1.1\r\n\r\n", "HTTP/1.1 204 No Content\r\n\r\n")
	// Flip a byte in the last record of the server's first flight.
	pl := replay(t, chunks, keys, func(i int, b []byte) []byte {
		if i == 1 {
			b[len(b)-1] ^= 1
		}
		return b
	})
	failed := false
	for _, p := range pl.pkts {
		if p.App != nil && strings.HasPrefix(p.App.First().Fields.Get("decryption"), "failed") {
			failed = true
		}
	}
	if !failed {
		t.Errorf("a corrupt record should fail to open:\n%s", join(pl.summaries()))
	}
}

func TestTLSNotRecords(t *testing.T) {
	pl := newPipeline(t, layers.LinkTypeEthernet, nil)
	c := newConn(t, pl, "127.0.0.1:40000", "127.0.0.80:443")
	c.handshake()
	c.send(0, "\x16\x03\x01\x00\x04\x01\x00\x00\x00", 1460) // an empty ClientHello
	c.send(1, "HTTP/1.1 400 Bad Request\r\n\r\n", 1460)
	got := join(pl.summaries())
	if !strings.Contains(got, "4 TLS ClientHello (malformed)") || !strings.Contains(got, "5 TLS not a TLS record") {
		t.Errorf("got\n%s", got)
	}
}

func TestKeyLogWrite(t *testing.T) {
	k := NewKeyLog()
	random := strings.Repeat("ab", 32)
	io.WriteString(k, "# comment\nCLIENT_HANDSHAKE_TRAFFIC_SECRET "+random+" 0102")
	io.WriteString(k, "03\nbad line\n")
	var r [32]byte
	for i := range r {
		r[i] = 0xab
	}
	if s := k.secret(labelClientHandshake, r); len(s) != 3 || s[2] != 3 {
		t.Errorf("secret %x", s)
	}
	if k.secret(labelServerHandshake, r) != nil {
		t.Error("unknown label found")
	}
}
