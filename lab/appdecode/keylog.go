package appdecode

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"sync"
)

// maxKeyLogEntries bounds the secrets a KeyLog keeps.
const maxKeyLogEntries = 4096

// KeyLog collects TLS secrets in the NSS key log format that browsers write
// to SSLKEYLOGFILE and Go's crypto/tls writes to Config.KeyLogWriter:
// "LABEL <client random> <secret>" lines, in hex. With it the decoder can
// open the TLS 1.3 records that follow ServerHello and name the handshake
// messages inside (EncryptedExtensions, Certificate, CertificateVerify,
// Finished). Without it those records are just "Application Data": which is
// all anyone watching the wire sees.
//
// Safe for concurrent use: the scenario's TLS stack writes while the
// capture goroutine reads. crypto/tls logs a secret before it sends the
// first record protected by it, so the secret is there when that record is
// captured.
type KeyLog struct {
	mu      sync.Mutex
	partial []byte
	secrets map[keyLogKey][]byte
	lines   []byte // the accepted lines, for a pcapng Decryption Secrets Block
}

type keyLogKey struct {
	label  string
	random [32]byte
}

// NewKeyLog returns an empty key log.
func NewKeyLog() *KeyLog { return &KeyLog{secrets: make(map[keyLogKey][]byte)} }

// Write takes key log lines (a line may arrive in pieces).
func (k *KeyLog) Write(b []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.partial = append(k.partial, b...)
	for {
		i := bytes.IndexByte(k.partial, '\n')
		if i < 0 {
			break
		}
		k.line(k.partial[:i])
		k.partial = k.partial[i+1:]
	}
	if len(k.partial) > 4096 {
		k.partial = nil // not a key log
	}
	if len(k.partial) == 0 {
		k.partial = nil
	}
	return len(b), nil
}

func (k *KeyLog) line(l []byte) {
	f := bytes.Fields(l)
	if len(f) != 3 || len(f[1]) != 64 || len(k.secrets) >= maxKeyLogEntries {
		return
	}
	var key keyLogKey
	if _, err := hex.Decode(key.random[:], f[1]); err != nil {
		return
	}
	secret := make([]byte, hex.DecodedLen(len(f[2])))
	if _, err := hex.Decode(secret, f[2]); err != nil {
		return
	}
	key.label = string(f[0])
	k.secrets[key] = secret
	k.lines = append(append(k.lines, l...), '\n')
}

// Lines returns the key log lines taken so far, in NSS key log format (what
// SSLKEYLOGFILE holds), for tools that decrypt the capture themselves.
func (k *KeyLog) Lines() []byte {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]byte(nil), k.lines...)
}

// secret returns the secret logged under label for a connection, or nil.
func (k *KeyLog) secret(label string, random [32]byte) []byte {
	if k == nil {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.secrets[keyLogKey{label, random}]
}

// Key log labels of the TLS 1.3 traffic secrets (RFC 8446 §7.1, NSS names).
const (
	labelClientHandshake = "CLIENT_HANDSHAKE_TRAFFIC_SECRET"
	labelServerHandshake = "SERVER_HANDSHAKE_TRAFFIC_SECRET"
	labelClientTraffic   = "CLIENT_TRAFFIC_SECRET_0"
	labelServerTraffic   = "SERVER_TRAFFIC_SECRET_0"
)

// recordKeys open the records one side protects with one traffic secret
// (RFC 8446 §5.2, §5.3).
type recordKeys struct {
	aead   cipher.AEAD
	iv     [12]byte
	seq    uint64
	secret []byte
	hash   func() hash.Hash
}

// suiteKeys derives the record keys of a TLS 1.3 cipher suite from a
// traffic secret. Only the AES-GCM suites are supported (the standard
// library has no public ChaCha20-Poly1305); it returns nil for others.
func suiteKeys(suite uint16, secret []byte) *recordKeys {
	var keyLen int
	var h func() hash.Hash
	switch suite {
	case 0x1301: // TLS_AES_128_GCM_SHA256
		keyLen, h = 16, sha256.New
	case 0x1302: // TLS_AES_256_GCM_SHA384
		keyLen, h = 32, sha512.New384
	default:
		return nil
	}
	key := expandLabel(h, secret, "key", keyLen)
	iv := expandLabel(h, secret, "iv", 12)
	if key == nil || iv == nil {
		return nil
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil
	}
	rk := &recordKeys{aead: aead, secret: secret, hash: h}
	copy(rk.iv[:], iv)
	return rk
}

// next returns the keys after a KeyUpdate (RFC 8446 §7.2).
func (rk *recordKeys) next(suite uint16) *recordKeys {
	s := expandLabel(rk.hash, rk.secret, "traffic upd", rk.hash().Size())
	if s == nil {
		return nil
	}
	return suiteKeys(suite, s)
}

// open decrypts one record (header is its 5-byte header) and returns the
// inner content type and content, or ok false.
func (rk *recordKeys) open(header, body []byte) (typ uint8, content []byte, ok bool) {
	var nonce [12]byte
	copy(nonce[:], rk.iv[:])
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], rk.seq)
	for i := range seq {
		nonce[4+i] ^= seq[i]
	}
	plain, err := rk.aead.Open(nil, nonce[:], body, header)
	if err != nil {
		return 0, nil, false
	}
	rk.seq++
	// TLSInnerPlaintext: content, type, zero padding.
	i := len(plain) - 1
	for i >= 0 && plain[i] == 0 {
		i--
	}
	if i < 0 {
		return 0, nil, false
	}
	return plain[i], plain[:i], true
}

// expandLabel is HKDF-Expand-Label with an empty context (RFC 8446 §7.1).
func expandLabel(h func() hash.Hash, secret []byte, label string, length int) []byte {
	full := "tls13 " + label
	info := make([]byte, 0, 4+len(full))
	info = binary.BigEndian.AppendUint16(info, uint16(length))
	info = append(info, byte(len(full)))
	info = append(info, full...)
	info = append(info, 0)
	out, err := hkdf.Expand(h, secret, string(info), length)
	if err != nil {
		return nil
	}
	return out
}
