package appdecode

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"strconv"
	"strings"
)

// TLS record content types (RFC 8446 §5.1).
const (
	recordCCS       = 20
	recordAlert     = 21
	recordHandshake = 22
	recordAppData   = 23
	recordHeartbeat = 24
)

const (
	// maxRecord is the longest record body accepted (TLS 1.2 allows
	// 2^14+2048 bytes of ciphertext); a longer length means the bytes are
	// not TLS records (or not at a record boundary).
	maxRecord = 1<<14 + 2048
	// maxHandshake bounds one handshake message (a certificate chain).
	maxHandshake = 64 << 10
)

// helloRetryRandom is the ServerHello.random of a HelloRetryRequest.
var helloRetryRandom = [32]byte{
	0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
	0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
}

// tlsConn is what both directions of a TLS connection share.
type tlsConn struct {
	keys       *KeyLog
	clientDir  int // direction of the ClientHello, -1 before it
	random     [32]byte
	haveRandom bool
	suite      uint16
	tls13      bool
	halves     [2]*tlsHalf
}

func (c *tlsConn) half(dir int) *tlsHalf {
	h := &tlsHalf{c: c, dir: dir}
	c.halves[dir] = h
	return h
}

// tlsHalf decodes the records one side sends.
type tlsHalf struct {
	c    *tlsConn
	dir  int
	hdr  [5]byte
	nh   int
	need int
	keep bool
	body []byte
	hs   []byte // handshake bytes not yet forming a whole message

	ccs    bool // TLS 1.2: ChangeCipherSpec sent, later records are encrypted
	epoch  int  // TLS 1.3: 0 plaintext, 1 handshake keys, 2 application keys
	rk     *recordKeys
	noKeys bool // a record failed to open: stop trying
	lost   bool

	partial bool
	parts   []part
	fields  map[string]string
}

// part names one record or message of the current packet.
type part struct {
	text string
	enc  bool // travelled encrypted; named thanks to the key log
}

func (h *tlsHalf) feed(b []byte, e *emitter) {
	for len(b) > 0 && !h.lost {
		if h.nh < 5 {
			n := copy(h.hdr[h.nh:], b)
			h.nh += n
			b = b[n:]
			if h.nh < 5 {
				break
			}
			if !h.header() {
				h.say("not a TLS record: "+fmt.Sprintf("% x", h.hdr[:]), false)
				h.lost = true
				break
			}
			if h.need == 0 {
				h.record()
				continue
			}
		}
		n := min(h.need, len(b))
		if h.keep {
			h.body = append(h.body, b[:n]...)
		}
		h.need -= n
		b = b[n:]
		if h.need == 0 {
			h.record()
		}
	}
	h.flush(e)
}

// header checks the record header just read and decides whether to keep
// the body (to decode or decrypt it) or just count it.
func (h *tlsHalf) header() bool {
	typ, length := h.hdr[0], int(h.hdr[3])<<8|int(h.hdr[4])
	if typ < recordCCS || typ > recordHeartbeat || h.hdr[1] != 3 || h.hdr[2] > 4 || length > maxRecord {
		return false
	}
	h.need = length
	h.body = h.body[:0]
	c := h.c
	switch typ {
	case recordHandshake, recordAlert:
		h.keep = !(h.ccs && !c.tls13)
	case recordAppData:
		h.keep = c.tls13 && h.epoch > 0 && !h.noKeys && c.keys != nil && (c.suite == 0x1301 || c.suite == 0x1302)
	default:
		h.keep = false
	}
	return true
}

// record handles a complete record.
func (h *tlsHalf) record() {
	typ, length := h.hdr[0], int(h.hdr[3])<<8|int(h.hdr[4])
	h.nh = 0
	c := h.c
	switch typ {
	case recordCCS:
		h.say("ChangeCipherSpec", false)
		if !c.tls13 {
			h.ccs = true
		}
	case recordAlert:
		if h.keep {
			h.alert(h.body, false)
		} else {
			h.say("Alert (encrypted)", false)
		}
	case recordHandshake:
		if h.keep {
			h.handshake(h.body, false)
		} else {
			h.say("Encrypted Handshake Message", false)
		}
	case recordAppData:
		if h.keep {
			h.decrypt(length)
		} else {
			h.say("Application Data "+strconv.Itoa(length)+" B", false)
		}
	case recordHeartbeat:
		h.say("Heartbeat", false)
	}
	if cap(h.body) > 4<<10 {
		h.body = nil // do not pin a large record buffer per connection
	} else {
		h.body = h.body[:0]
	}
}

// decrypt opens a TLS 1.3 record with the key log's secret.
func (h *tlsHalf) decrypt(length int) {
	if h.rk == nil {
		h.rk = h.loadKeys()
	}
	if h.rk == nil {
		h.say("Application Data "+strconv.Itoa(length)+" B", false)
		return
	}
	typ, content, ok := h.rk.open(h.hdr[:], h.body)
	if !ok {
		h.noKeys = true
		h.say("Application Data "+strconv.Itoa(length)+" B", false)
		h.field("decryption", "failed: the key log's secret does not open this record")
		return
	}
	switch typ {
	case recordHandshake:
		h.handshake(content, true)
	case recordAlert:
		h.alert(content, true)
	case recordAppData:
		h.say("Application Data "+strconv.Itoa(len(content))+" B", true)
		h.field("decrypted", preview(content))
	default:
		h.say("content type "+strconv.Itoa(int(typ)), true)
	}
}

// loadKeys finds the traffic secret for this side and epoch.
func (h *tlsHalf) loadKeys() *recordKeys {
	c := h.c
	if !c.haveRandom || c.clientDir < 0 || h.epoch == 0 {
		return nil
	}
	client := h.dir == c.clientDir
	var label string
	switch {
	case client && h.epoch == 1:
		label = labelClientHandshake
	case !client && h.epoch == 1:
		label = labelServerHandshake
	case client:
		label = labelClientTraffic
	default:
		label = labelServerTraffic
	}
	secret := c.keys.secret(label, c.random)
	if secret == nil {
		return nil
	}
	return suiteKeys(c.suite, secret)
}

func (h *tlsHalf) handshake(b []byte, enc bool) {
	if len(h.hs)+len(b) > maxHandshake+4 {
		h.say("handshake message over "+strconv.Itoa(maxHandshake>>10)+" KiB", enc)
		h.partial, h.lost = true, true
		return
	}
	h.hs = append(h.hs, b...)
	named := false
	for len(h.hs) >= 4 {
		mt := h.hs[0]
		ml := int(h.hs[1])<<16 | int(h.hs[2])<<8 | int(h.hs[3])
		if ml > maxHandshake {
			h.say("handshake message over "+strconv.Itoa(maxHandshake>>10)+" KiB", enc)
			h.partial, h.lost = true, true
			return
		}
		if len(h.hs) < 4+ml {
			break
		}
		h.message(mt, h.hs[4:4+ml], enc)
		named = true
		h.hs = h.hs[4+ml:]
	}
	if len(h.hs) == 0 {
		h.hs = nil
	}
	if !named {
		h.say("Handshake fragment "+strconv.Itoa(len(b))+" B", enc)
	}
}

var handshakeNames = map[uint8]string{
	0: "HelloRequest", 1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket", 5: "EndOfEarlyData",
	8: "EncryptedExtensions", 11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest",
	14: "ServerHelloDone", 15: "CertificateVerify", 16: "ClientKeyExchange", 20: "Finished",
	24: "KeyUpdate", 254: "MessageHash",
}

func (h *tlsHalf) message(mt uint8, b []byte, enc bool) {
	name, ok := handshakeNames[mt]
	if !ok {
		name = "handshake type " + strconv.Itoa(int(mt))
	}
	c := h.c
	switch mt {
	case 1:
		c.clientDir = h.dir
		text := h.clientHello(b)
		h.say(text, enc)
		return
	case 2:
		h.say(h.serverHello(b), enc)
		return
	case 8:
		if alpn := encryptedExtensionsALPN(b); alpn != "" {
			h.field("alpn", alpn)
		}
	case 11:
		h.certificate(b)
	case 15:
		r := reader(b)
		if s, ok := r.u16(); ok {
			h.field("signature_scheme", tls.SignatureScheme(s).String())
		}
	case 4:
		r := reader(b)
		if life, ok := r.u32(); ok {
			h.field("ticket_lifetime", strconv.FormatUint(uint64(life), 10)+" s")
		}
	}
	h.say(name, enc)
	if enc && c.tls13 {
		switch mt {
		case 20: // Finished: this side now protects data with its application keys
			h.epoch, h.rk = 2, nil
		case 24:
			if h.rk != nil {
				h.rk = h.rk.next(c.suite)
			}
		}
	}
}

func (h *tlsHalf) clientHello(b []byte) string {
	r := reader(b)
	c := h.c
	ver, ok1 := r.u16()
	random, ok2 := r.bytes(32)
	_, ok3 := r.vec8()
	suites, ok4 := r.vec16()
	_, ok5 := r.vec8()
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return "ClientHello (malformed)"
	}
	copy(c.random[:], random)
	c.haveRandom = true
	h.field("legacy_version", tls.VersionName(ver))
	var names []string
	for s := reader(suites); ; {
		id, ok := s.u16()
		if !ok {
			break
		}
		names = append(names, tls.CipherSuiteName(id))
	}
	h.field("cipher_suites", strings.Join(names, ", "))
	text := "ClientHello"
	exts, _ := r.vec16()
	forExtensions(exts, func(typ uint16, data reader) {
		switch typ {
		case 0: // server_name
			list, _ := data.vec16()
			for list.len() > 0 {
				nt, _ := list.u8()
				name, ok := list.vec16()
				if !ok {
					break
				}
				if nt == 0 {
					h.field("sni", string(name))
					text += " sni=" + string(name)
				}
			}
		case 16: // ALPN
			list, _ := data.vec16()
			var protos []string
			for list.len() > 0 {
				p, ok := list.vec8()
				if !ok {
					break
				}
				protos = append(protos, string(p))
			}
			h.field("alpn", strings.Join(protos, ", "))
		case 43: // supported_versions
			list, _ := data.vec8()
			var vs []string
			for list.len() > 0 {
				v, ok := list.u16()
				if !ok {
					break
				}
				vs = append(vs, tls.VersionName(v))
			}
			h.field("supported_versions", strings.Join(vs, ", "))
		case 51: // key_share
			list, _ := data.vec16()
			var groups []string
			for list.len() > 0 {
				g, ok := list.u16()
				if _, ok2 := list.vec16(); !ok || !ok2 {
					break
				}
				groups = append(groups, tls.CurveID(g).String())
			}
			h.field("key_share", strings.Join(groups, ", "))
		}
	})
	return text
}

func (h *tlsHalf) serverHello(b []byte) string {
	r := reader(b)
	c := h.c
	ver, ok1 := r.u16()
	random, ok2 := r.bytes(32)
	_, ok3 := r.vec8()
	suite, ok4 := r.u16()
	_, ok5 := r.u8()
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return "ServerHello (malformed)"
	}
	hrr := [32]byte(random) == helloRetryRandom
	version := ver
	group := ""
	exts, _ := r.vec16()
	forExtensions(exts, func(typ uint16, data reader) {
		switch typ {
		case 43:
			if v, ok := data.u16(); ok {
				version = v
			}
		case 51:
			if g, ok := data.u16(); ok {
				group = tls.CurveID(g).String()
			}
		}
	})
	c.suite = suite
	h.field("version", tls.VersionName(version))
	h.field("cipher_suite", tls.CipherSuiteName(suite))
	if group != "" {
		h.field("key_share", group)
	}
	if c.clientDir < 0 {
		c.clientDir = 1 - h.dir
	}
	if hrr {
		return "HelloRetryRequest"
	}
	if version == tls.VersionTLS13 {
		c.tls13 = true
		// From here on both sides protect their records (RFC 8446 §2).
		for _, x := range c.halves {
			if x != nil && x.epoch == 0 {
				x.epoch = 1
			}
		}
	}
	return "ServerHello " + tls.VersionName(version)
}

// certificate names the first certificate of a Certificate message.
func (h *tlsHalf) certificate(b []byte) {
	r := reader(b)
	if h.c.tls13 {
		if _, ok := r.vec8(); !ok { // certificate_request_context
			return
		}
	}
	list, ok := r.vec24()
	if !ok {
		return
	}
	n := 0
	var first []byte
	for list.len() > 0 {
		der, ok := list.vec24()
		if !ok {
			break
		}
		if h.c.tls13 {
			if _, ok := list.vec16(); !ok {
				break
			}
		}
		if n == 0 {
			first = der
		}
		n++
	}
	h.field("certificates", strconv.Itoa(n))
	if first == nil {
		return
	}
	cert, err := x509.ParseCertificate(first)
	if err != nil {
		h.field("cert_error", err.Error())
		return
	}
	h.field("cert_subject", cert.Subject.String())
	h.field("cert_issuer", cert.Issuer.String())
	if len(cert.DNSNames) > 0 {
		h.field("cert_dns_names", strings.Join(cert.DNSNames, ", "))
	}
	h.field("cert_not_after", cert.NotAfter.UTC().Format("2006-01-02 15:04:05 UTC"))
	h.field("cert_key", keyName(cert.PublicKey))
	if cert.Subject.String() == cert.Issuer.String() {
		h.field("cert_self_signed", "yes")
	}
}

func keyName(k any) string {
	switch k := k.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA " + k.Curve.Params().Name
	case *rsa.PublicKey:
		return "RSA " + strconv.Itoa(k.N.BitLen())
	case ed25519.PublicKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", k)
}

func encryptedExtensionsALPN(b []byte) string {
	r := reader(b)
	exts, _ := r.vec16()
	alpn := ""
	forExtensions(exts, func(typ uint16, data reader) {
		if typ == 16 {
			list, _ := data.vec16()
			if p, ok := list.vec8(); ok {
				alpn = string(p)
			}
		}
	})
	return alpn
}

var alertNames = map[uint8]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 22: "record_overflow",
	40: "handshake_failure", 42: "bad_certificate", 43: "unsupported_certificate",
	44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
	47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error",
	51: "decrypt_error", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled", 109: "missing_extension",
	110: "unsupported_extension", 112: "unrecognized_name", 113: "bad_certificate_status_response",
	115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol",
}

func (h *tlsHalf) alert(b []byte, enc bool) {
	if len(b) < 2 {
		h.say("Alert (malformed)", enc)
		return
	}
	level := "warning"
	if b[0] == 2 {
		level = "fatal"
	}
	name, ok := alertNames[b[1]]
	if !ok {
		name = "alert " + strconv.Itoa(int(b[1]))
	}
	h.field("alert", level+" "+name)
	h.say("Alert "+name, enc)
}

func (h *tlsHalf) say(text string, enc bool) { h.parts = append(h.parts, part{text, enc}) }

func (h *tlsHalf) field(k, v string) {
	if h.fields == nil {
		h.fields = map[string]string{}
	}
	if old, dup := h.fields[k]; dup && old != v {
		v = old + "; " + v
	}
	h.fields[k] = v
}

// flush emits one item naming the records this packet completed. Records
// that travelled encrypted are grouped in braces, as RFC 8446 writes
// messages protected by handshake keys.
func (h *tlsHalf) flush(e *emitter) {
	if len(h.parts) == 0 {
		h.fields = nil
		return
	}
	var b strings.Builder
	b.WriteString("TLS ")
	for i, p := range h.parts {
		prevEnc := i > 0 && h.parts[i-1].enc
		nextEnc := i+1 < len(h.parts) && h.parts[i+1].enc
		if i > 0 {
			b.WriteString(", ")
		}
		if p.enc && !prevEnc {
			b.WriteString("{")
		}
		b.WriteString(p.text)
		if p.enc && !nextEnc {
			b.WriteString("}")
		}
	}
	fields := h.fields
	if fields == nil {
		fields = map[string]string{}
	}
	var recs []string
	for _, p := range h.parts {
		t := p.text
		if p.enc {
			t += " (encrypted; opened with the run's key log)"
		}
		recs = append(recs, t)
	}
	fields["records"] = strings.Join(recs, "\n")
	e.add(item{proto: "tls", summary: b.String(), fields: fields, partial: h.partial})
	h.parts = h.parts[:0]
	h.fields = nil
}

func (h *tlsHalf) gap(n int, e *emitter) {
	h.partial = true
	if n < 0 && h.nh == 0 && h.need == 0 && len(h.hs) == 0 {
		return // mid-stream start: try the first bytes as a record header
	}
	if !h.lost {
		what := "bytes not captured"
		if n > 0 {
			what = strconv.Itoa(n) + " B not captured"
		}
		h.say(what+": stopped decoding this direction", false)
		h.flush(e)
	}
	h.lost = true
}

func (h *tlsHalf) end(e *emitter) {
	if !h.lost && (h.nh > 0 || h.need > 0) {
		h.say("connection ended inside a record", false)
		h.partial = true
	}
	h.flush(e)
	h.body, h.hs = nil, nil
}

// preview is the first line of decrypted data, for the details view.
func preview(b []byte) string {
	line := b
	for i, c := range b {
		if c == '\r' || c == '\n' {
			line = b[:i]
			break
		}
	}
	if len(line) > 60 {
		return strconv.Quote(string(line[:60])) + "…"
	}
	return strconv.Quote(string(line))
}

// reader reads TLS's length-prefixed fields; every read reports whether
// the bytes were there.
type reader []byte

func (r *reader) len() int { return len(*r) }

func (r *reader) bytes(n int) ([]byte, bool) {
	if n < 0 || len(*r) < n {
		*r = nil
		return nil, false
	}
	b := (*r)[:n]
	*r = (*r)[n:]
	return b, true
}

func (r *reader) u8() (uint8, bool) {
	b, ok := r.bytes(1)
	if !ok {
		return 0, false
	}
	return b[0], true
}

func (r *reader) u16() (uint16, bool) {
	b, ok := r.bytes(2)
	if !ok {
		return 0, false
	}
	return uint16(b[0])<<8 | uint16(b[1]), true
}

func (r *reader) u32() (uint32, bool) {
	b, ok := r.bytes(4)
	if !ok {
		return 0, false
	}
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), true
}

func (r *reader) vec8() (reader, bool) {
	n, ok := r.u8()
	if !ok {
		return nil, false
	}
	b, ok := r.bytes(int(n))
	return reader(b), ok
}

func (r *reader) vec16() (reader, bool) {
	n, ok := r.u16()
	if !ok {
		return nil, false
	}
	b, ok := r.bytes(int(n))
	return reader(b), ok
}

func (r *reader) vec24() (reader, bool) {
	b, ok := r.bytes(3)
	if !ok {
		return nil, false
	}
	b, ok = r.bytes(int(b[0])<<16 | int(b[1])<<8 | int(b[2]))
	return reader(b), ok
}

// forExtensions calls fn for each extension of a hello's extension block.
func forExtensions(exts reader, fn func(typ uint16, data reader)) {
	for exts.len() > 0 {
		typ, ok := exts.u16()
		data, ok2 := exts.vec16()
		if !ok || !ok2 {
			return
		}
		fn(typ, data)
	}
}
