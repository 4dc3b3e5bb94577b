package appdecode

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
)

// maxHeaderBytes bounds one HTTP header block (start line and headers); a
// longer one is skipped and marked.
const maxHeaderBytes = 16 << 10

// maxPendingRequests bounds the requests remembered while their responses
// are awaited (pipelining).
const maxPendingRequests = 64

// httpConn is what both directions of an HTTP/1.x connection share: the
// methods of requests still awaiting a final response, because a response
// to HEAD has no body whatever its headers say.
type httpConn struct {
	methods []string
	halves  []*httpHalf
}

func (c *httpConn) half() *httpHalf {
	h := &httpHalf{c: c}
	c.halves = append(c.halves, h)
	return h
}

// role is what a direction carries, known from its first message.
type role uint8

const (
	roleUnknown role = iota
	roleRequests
	roleResponses
)

type hstate uint8

const (
	hsStart      hstate = iota // before a start line: buffering the header block
	hsBody                     // Content-Length body: remain bytes left
	hsChunkSize                // chunked: buffering a chunk-size line
	hsChunkData                // chunked: remain bytes of chunk data left
	hsChunkCRLF                // chunked: the CRLF after chunk data (remain bytes left)
	hsTrailers                 // chunked: buffering trailer lines up to the empty line
	hsUntilClose               // response body delimited by the end of the connection
	hsOpaque                   // after 101 Switching Protocols or CONNECT: not HTTP any more
	hsLost                     // out of step after a hole: looking for the next message
)

// httpHalf decodes one direction of an HTTP/1.x connection.
type httpHalf struct {
	c        *httpConn
	role     role
	st       hstate
	buf      []byte
	remain   int64
	partial  bool  // bytes of the current message were not captured
	lineEnd  bool  // the last byte fed was '\n' (for finding message starts after a hole)
	chunk    int64 // size of the chunk being read
	msg      httpMsg
	feedBody int64 // body bytes of the current message completed during this feed
	feedN    int   // chunks completed during this feed
}

// httpMsg is the message being decoded.
type httpMsg struct {
	line     string // request or status line
	summary  string
	status   int
	method   string
	bodyKind string // "none", "length", "chunked", "close"
	body     int64  // body bytes so far
	chunks   int
	fields   map[string]string // the head's fields: handed over with its packet
	trailers map[string]string
	item     int      // index of its head item among the emitter's items ...
	itemEm   *emitter // ... of this emitter ...
	itemGen  int      // ... while it is at this generation (the same packet)
}

// headHere reports whether the message's head was named on the current
// packet: only then may its fields still change (a packet's AppInfo is
// never touched once the packet has left the decoder).
func (m *httpMsg) headHere(e *emitter) bool {
	return m.itemEm == e && m.itemGen == e.gen && m.item >= 0 && m.item < len(e.items)
}

func (h *httpHalf) feed(b []byte, e *emitter) {
	h.feedBody, h.feedN = 0, 0
	if h.st == hsLost {
		h.lineEnd = true // after a hole, a segment often starts a message
	}
	for len(b) > 0 {
		n := h.step(b, e)
		if n <= 0 {
			break
		}
		if n > len(b) {
			n = len(b)
		}
		h.lineEnd = b[n-1] == '\n'
		b = b[n:]
	}
	// Chunks completed here, in a message that goes on.
	if h.feedN > 0 && (h.st == hsChunkSize || h.st == hsChunkData || h.st == hsChunkCRLF) {
		s := "chunk " + strconv.FormatInt(h.feedBody, 10) + " B"
		if h.feedN > 1 {
			s = strconv.Itoa(h.feedN) + " chunks " + strconv.FormatInt(h.feedBody, 10) + " B"
		}
		f := h.partFields("chunks")
		f["chunk.bytes"] = strconv.FormatInt(h.feedBody, 10)
		e.add(item{proto: "http", summary: s, partial: h.partial, fields: f})
	}
}

// partFields describe a piece of the current message that is not its head
// (chunks, the end of the body): which message, and its body so far.
func (h *httpHalf) partFields(part string) map[string]string {
	m := &h.msg
	f := map[string]string{"message": m.fields["message"], "of": m.line, "part": part,
		"body": h.bodyText(), "body.bytes": strconv.FormatInt(m.body, 10)}
	if m.bodyKind == "chunked" {
		f["chunks"] = strconv.Itoa(m.chunks)
	}
	for k, v := range m.trailers {
		f[k] = v
	}
	return f
}

// step consumes some of b in the current state and returns how much.
func (h *httpHalf) step(b []byte, e *emitter) int {
	switch h.st {
	case hsStart:
		return h.headers(b, e)
	case hsBody, hsChunkData:
		n := min(int64(len(b)), h.remain)
		h.take(n, e)
		return int(n)
	case hsChunkSize, hsTrailers:
		return h.chunkLine(b, e)
	case hsChunkCRLF:
		n := min(int64(len(b)), h.remain)
		h.remain -= n
		if h.remain == 0 {
			h.msg.chunks++
			h.feedN++
			h.feedBody += h.chunk
			h.st = hsChunkSize
		}
		return int(n)
	case hsUntilClose:
		h.msg.body += int64(len(b))
		return len(b)
	case hsOpaque:
		return len(b)
	case hsLost:
		return h.resync(b, e)
	}
	return len(b)
}

// headers buffers the header block and decodes it once complete.
func (h *httpHalf) headers(b []byte, e *emitter) int {
	if len(h.buf) == 0 {
		// Empty lines before a message are allowed (RFC 9112 §2.2).
		i := 0
		for i < len(b) && (b[i] == '\r' || b[i] == '\n') {
			i++
		}
		if i > 0 {
			return i
		}
	}
	prev := len(h.buf)
	room := maxHeaderBytes - prev
	take := b
	if len(take) > room {
		take = take[:room]
	}
	h.buf = append(h.buf, take...)
	from := max(prev-3, 0)
	end := headerEnd(h.buf, from)
	if end < 0 {
		if len(h.buf) >= maxHeaderBytes {
			e.add(item{proto: "http", summary: "header block over " + strconv.Itoa(maxHeaderBytes>>10) + " KiB, skipped", partial: true})
			h.lose()
		}
		return len(take)
	}
	used := end - prev
	block := h.buf[:end]
	if !h.message(block, e) {
		return used
	}
	h.buf = h.buf[:0]
	return used
}

// headerEnd returns the index just after the empty line that ends a header
// block (CRLF CRLF, or bare LF LF), searching from from, or -1.
func headerEnd(b []byte, from int) int {
	for i := from; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		j := i + 1
		if j < len(b) && b[j] == '\r' {
			j++
		}
		if j < len(b) && b[j] == '\n' {
			return j + 1
		}
	}
	return -1
}

// message decodes a complete header block. It reports false when the block
// is not HTTP (the direction is then lost).
func (h *httpHalf) message(block []byte, e *emitter) bool {
	lines := strings.Split(strings.TrimRight(string(block), "\r\n"), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	m, ok := h.startLine(lines[0])
	if !ok {
		e.add(item{proto: "http", summary: "not HTTP: " + quoteShort(lines[0]), partial: true})
		h.lose()
		return false
	}
	fr := m.headers(lines[1:])
	h.msg = m
	h.msg.item = e.add(item{proto: "http", summary: m.summary, fields: m.fields, partial: h.partial})
	h.msg.itemEm, h.msg.itemGen = e, e.gen
	if h.role == roleRequests {
		h.c.pushMethod(m.method)
		h.requestBody(fr, e)
	} else {
		h.responseBody(fr, e)
	}
	return true
}

// startLine reads a request or status line; a half that has carried
// requests never carries a response, and the other way round.
func (h *httpHalf) startLine(start string) (httpMsg, bool) {
	m := httpMsg{line: start, item: -1, fields: map[string]string{"line": start}}
	req, resp := parseRequestLine(start), parseStatusLine(start)
	switch {
	case req != nil && h.role != roleResponses:
		h.role = roleRequests
		m.method = req[0]
		m.summary = req[0] + " " + req[1]
		m.fields["message"] = "request"
		m.fields["method"], m.fields["target"], m.fields["version"] = req[0], req[1], req[2]
	case resp != nil && h.role != roleRequests:
		h.role = roleResponses
		m.status, _ = strconv.Atoi(resp[1])
		m.summary = strings.TrimSpace(resp[1] + " " + resp[2])
		m.fields["message"] = "response"
		m.fields["version"], m.fields["status"], m.fields["reason"] = resp[0], resp[1], resp[2]
	default:
		return m, false
	}
	return m, true
}

// framing is what the headers say about the body (RFC 9112 §6.3).
type framing struct {
	chunked bool
	hasCL   bool  // a Content-Length header is present
	badCL   bool  // ... and is not a number
	length  int64 // its value
}

// headers records the header lines in m's fields (repeated headers joined
// with ", ") and returns the body framing they declare.
func (m *httpMsg) headers(lines []string) framing {
	m.fields["headers"] = strings.Join(lines, "\n")
	var te, cl string
	var fr framing
	for _, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		name, value = strings.ToLower(strings.TrimSpace(name)), strings.TrimSpace(value)
		key := "header." + name
		if old, dup := m.fields[key]; dup {
			value = old + ", " + value
		}
		m.fields[key] = value
		switch name {
		case "transfer-encoding":
			te = value
		case "content-length":
			cl, fr.hasCL = value, true
		}
	}
	fr.chunked = strings.Contains(strings.ToLower(te), "chunked")
	n, err := strconv.ParseInt(strings.TrimSpace(strings.Split(cl, ",")[0]), 10, 64)
	fr.length, fr.badCL = n, fr.hasCL && (err != nil || n < 0)
	return fr
}

// requestBody starts reading a request's body, or completes a request
// that has none.
func (h *httpHalf) requestBody(fr framing, e *emitter) {
	switch {
	case fr.chunked:
		h.startChunked()
	case fr.hasCL && !fr.badCL && fr.length > 0:
		h.startLength(fr.length)
	default:
		h.msg.bodyKind = "none"
		h.complete(e)
	}
}

// responseBody starts reading a response's body. Whether it has one
// depends on the request it answers (HEAD, CONNECT) and its status.
func (h *httpHalf) responseBody(fr framing, e *emitter) {
	m := &h.msg
	method := h.c.frontMethod()
	switch {
	case m.status >= 100 && m.status < 200:
		m.bodyKind = "none"
		h.complete(e)
		if m.status == 101 {
			h.c.opaque()
		}
	case method == "HEAD" || m.status == 204 || m.status == 304:
		m.bodyKind = "none"
		h.complete(e)
	case method == "CONNECT" && m.status >= 200 && m.status < 300:
		m.bodyKind = "none"
		h.complete(e)
		h.c.opaque()
	case fr.chunked:
		h.startChunked()
	case fr.hasCL && !fr.badCL:
		if fr.length == 0 {
			m.bodyKind = "length"
			h.complete(e)
		} else {
			h.startLength(fr.length)
		}
	default:
		m.bodyKind = "close"
		h.st = hsUntilClose
	}
}

func (h *httpHalf) startLength(n int64) {
	h.msg.bodyKind = "length"
	h.st, h.remain = hsBody, n
}

func (h *httpHalf) startChunked() {
	h.msg.bodyKind = "chunked"
	h.st = hsChunkSize
	h.buf = h.buf[:0]
}

// take counts n bytes of the body or chunk being read (received or lost)
// and moves on once it is complete.
func (h *httpHalf) take(n int64, e *emitter) {
	h.remain -= n
	h.msg.body += n
	switch {
	case h.remain > 0:
	case h.st == hsBody:
		h.complete(e)
	default:
		h.st, h.remain = hsChunkCRLF, 2
	}
}

// chunkLine buffers a chunk-size or trailer line and acts on it.
func (h *httpHalf) chunkLine(b []byte, e *emitter) int {
	i := bytes.IndexByte(b, '\n')
	take := len(b)
	if i >= 0 {
		take = i + 1
	}
	if len(h.buf)+take > maxHeaderBytes {
		e.add(item{proto: "http", summary: "chunk line over " + strconv.Itoa(maxHeaderBytes>>10) + " KiB", partial: true})
		h.lose()
		return take
	}
	h.buf = append(h.buf, b[:take]...)
	if i < 0 {
		return take
	}
	line := strings.TrimRight(string(h.buf), "\r\n")
	h.buf = h.buf[:0]
	if h.st == hsTrailers {
		if line == "" {
			h.complete(e)
		} else if name, value, ok := strings.Cut(line, ":"); ok {
			if h.msg.trailers == nil {
				h.msg.trailers = map[string]string{}
			}
			if len(h.msg.trailers) < 64 {
				h.msg.trailers["trailer."+strings.ToLower(strings.TrimSpace(name))] = strings.TrimSpace(value)
			}
		}
		return take
	}
	sizeText, _, _ := strings.Cut(line, ";") // chunk extensions
	size, err := strconv.ParseInt(strings.TrimSpace(sizeText), 16, 64)
	if err != nil || size < 0 {
		e.add(item{proto: "http", summary: "bad chunk size " + quoteShort(line), partial: true})
		h.lose()
		return take
	}
	if size == 0 {
		h.st = hsTrailers
		return take
	}
	h.chunk = size
	h.st, h.remain = hsChunkData, size
	return take
}

// complete ends the current message: its body is all there.
func (h *httpHalf) complete(e *emitter) {
	m := &h.msg
	if m.headHere(e) {
		// Head and end of the message in one packet: one item says it all.
		for k, v := range h.partFields("") {
			switch k {
			case "body", "body.bytes", "chunks":
				m.fields[k] = v
			default:
				if strings.HasPrefix(k, "trailer.") {
					m.fields[k] = v
				}
			}
		}
		if h.partial {
			e.items[m.item].partial = true
		}
	} else {
		// The headers were named on an earlier packet: name the end here.
		var s string
		switch m.bodyKind {
		case "chunked":
			s = "last chunk (" + strconv.Itoa(m.chunks) + " chunks, " + strconv.FormatInt(m.body, 10) + " B)"
		default:
			s = "body " + strconv.FormatInt(m.body, 10) + " B"
		}
		e.add(item{proto: "http", summary: s, partial: h.partial, fields: h.partFields("end")})
	}
	if h.role == roleResponses && (m.status < 100 || m.status >= 200) {
		h.c.popMethod()
	}
	h.feedN, h.feedBody = 0, 0
	h.partial = false
	if h.st != hsOpaque {
		h.st = hsStart
	}
	h.remain = 0
	h.buf = h.buf[:0]
}

func (h *httpHalf) bodyText() string {
	m := &h.msg
	n := strconv.FormatInt(m.body, 10) + " B"
	switch m.bodyKind {
	case "none":
		switch {
		case m.method == "":
			if m.status >= 100 && m.status < 200 || m.status == 204 || m.status == 304 {
				return "none (status " + strconv.Itoa(m.status) + " has no body)"
			}
			if h.c.frontMethod() == "HEAD" {
				return "none (response to HEAD)"
			}
		}
		return "none"
	case "length":
		return n + " (Content-Length)"
	case "chunked":
		return n + " in " + strconv.Itoa(m.chunks) + " chunks (Transfer-Encoding: chunked)"
	case "close":
		return n + " (until the connection closed)"
	}
	return n
}

func (h *httpHalf) gap(n int, e *emitter) {
	h.partial = true
	if n > 0 {
		switch h.st {
		case hsBody, hsChunkData:
			if int64(n) <= h.remain {
				h.take(int64(n), e) // lost inside a body of known length: still in step
				return
			}
		case hsUntilClose:
			h.msg.body += int64(n)
			return
		case hsOpaque:
			return
		}
		e.add(item{proto: "http", summary: strconv.Itoa(n) + " B not captured", partial: true})
	}
	if h.st != hsOpaque {
		h.lose()
	}
}

// lose puts the direction out of step until the next message start.
func (h *httpHalf) lose() {
	h.st = hsLost
	h.partial = true
	h.buf = h.buf[:0]
	h.remain = 0
	h.lineEnd = true // a hole may end right before a message
}

// resync looks for the start of a message at the beginning of a line and
// decodes from there.
func (h *httpHalf) resync(b []byte, e *emitter) int {
	at := 0
	if !h.lineEnd {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return len(b)
		}
		at = i + 1
	}
	for at < len(b) {
		rest := b[at:]
		if (h.role != roleResponses && requestStart(rest)) || (h.role != roleRequests && responseStart(rest)) {
			h.st = hsStart
			if at == 0 {
				return h.headers(b, e)
			}
			return at
		}
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return len(b)
		}
		at += i + 1
	}
	return len(b)
}

func (h *httpHalf) end(e *emitter) {
	switch h.st {
	case hsUntilClose:
		h.complete(e)
	case hsStart:
		if len(h.buf) > 0 {
			e.add(item{proto: "http", summary: "connection ended inside a header block", partial: true})
		}
	case hsBody, hsChunkSize, hsChunkData, hsChunkCRLF, hsTrailers:
		e.add(item{proto: "http", summary: "connection ended inside the body of " + h.msg.summary, partial: true,
			fields: h.partFields("cut")})
	}
	h.buf = nil
}

func (c *httpConn) pushMethod(m string) {
	if len(c.methods) >= maxPendingRequests {
		c.methods = c.methods[1:]
	}
	c.methods = append(c.methods, m)
}

func (c *httpConn) frontMethod() string {
	if len(c.methods) == 0 {
		return ""
	}
	return c.methods[0]
}

func (c *httpConn) popMethod() {
	if len(c.methods) > 0 {
		c.methods = c.methods[1:]
	}
}

// opaque stops decoding both directions (the connection now carries
// another protocol).
func (c *httpConn) opaque() {
	for _, h := range c.halves {
		h.st = hsOpaque
		h.buf = nil
	}
}

// methods HTTP/1.1 knows, for recognising a request line.
var methods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT", "PATCH"}

// requestStart reports whether b starts like a request line ("GET ").
func requestStart(b []byte) bool {
	for _, m := range methods {
		if len(b) > len(m) && string(b[:len(m)]) == m && b[len(m)] == ' ' {
			return true
		}
	}
	return false
}

// responseStart reports whether b starts like a status line.
func responseStart(b []byte) bool {
	return len(b) >= 7 && string(b[:7]) == "HTTP/1."
}

// requestLine reports whether b starts with a whole request line: a known
// method, a target, HTTP/1.0 or HTTP/1.1, and the line's end.
func requestLine(b []byte) bool {
	i := bytes.IndexByte(b, '\n')
	if i < 0 || i > maxHeaderBytes || !requestStart(b) {
		return false
	}
	f := parseRequestLine(strings.TrimSuffix(string(b[:i]), "\r"))
	return f != nil && httpVersion(f[2]) && slices.Contains(methods, f[0])
}

// statusLine reports whether b starts with a status line's version and
// code: "HTTP/1.1 200" and then a space or the line's end.
func statusLine(b []byte) bool {
	if len(b) < 13 || !httpVersion(string(b[:8])) || b[8] != ' ' {
		return false
	}
	for _, c := range b[9:12] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return b[9] != '0' && (b[12] == ' ' || b[12] == '\r' || b[12] == '\n')
}

// httpVersion reports whether v is HTTP/1.0 or HTTP/1.1.
func httpVersion(v string) bool { return v == "HTTP/1.0" || v == "HTTP/1.1" }

// parseRequestLine splits "GET /x HTTP/1.1" into method, target, version.
func parseRequestLine(l string) []string {
	f := strings.Split(l, " ")
	if len(f) != 3 || !strings.HasPrefix(f[2], "HTTP/") || f[1] == "" || !token(f[0]) {
		return nil
	}
	return f
}

// parseStatusLine splits "HTTP/1.1 200 OK" into version, code, reason.
func parseStatusLine(l string) []string {
	v, rest, ok := strings.Cut(l, " ")
	if !ok || !strings.HasPrefix(v, "HTTP/") {
		return nil
	}
	code, reason, _ := strings.Cut(rest, " ")
	if len(code) != 3 || code[0] < '1' || code[0] > '9' || code[1] < '0' || code[1] > '9' || code[2] < '0' || code[2] > '9' {
		return nil
	}
	return []string{v, code, reason}
}

// token reports whether s is an HTTP token of upper-case letters (methods).
func token(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// quoteShort quotes the start of s for a summary.
func quoteShort(s string) string {
	if len(s) > 24 {
		s = s[:24] + "…"
	}
	return strconv.Quote(s)
}
