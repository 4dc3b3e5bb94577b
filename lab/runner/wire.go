package runner

import (
	"encoding/gob"
	"io"

	"github.com/netlab/netlab/lab/doctor"

	"github.com/netlab/netlab/lab/timeline"
)

// msg is one message on the worker's event pipe (gob-encoded): the run's
// description first, then events in order, then how it ended.
type msg struct {
	Meta  *timeline.Meta
	Event *timeline.Event
	End   *end
	Probe []doctor.Result
	Stats *stats
}

// stats is the worker's running count, sent twice a second.
type stats struct {
	Packets, Drops uint64
}

// end is the worker's last word.
type end struct {
	Packets int
	Drops   uint64
	KeyLog  []byte   // TLS secrets the scenario logged
	Err     string   // the scenario failed
	Fatal   string   // the run could not start
	Fix     []string // what to do about Fatal (a *sandbox.Error)
	Code    int      // exit code the worker suggests
}

type encoder struct{ enc *gob.Encoder }

func newEncoder(w io.Writer) *encoder { return &encoder{enc: gob.NewEncoder(w)} }

func (e *encoder) send(m msg) error { return e.enc.Encode(&m) }

type decoder struct{ dec *gob.Decoder }

func newDecoder(r io.Reader) *decoder { return &decoder{dec: gob.NewDecoder(r)} }

func (d *decoder) next() (msg, error) {
	var m msg
	err := d.dec.Decode(&m)
	return m, err
}
