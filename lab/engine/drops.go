package engine

import (
	"fmt"
	"time"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
	"github.com/netlab/netlab/lab/impair"
)

// verdictDelay bounds how long after the capture saw a packet the
// firewall has logged its drop: on lo the input hook runs in the same
// softirq as the capture's tap, microseconds later.
const verdictDelay = 100 * time.Microsecond

// dropMarker marks the captured packets the lab's own firewall dropped
// (decode.DropFirewall), before the flow tracker applies them to their
// receiver: the capture sees every packet before the firewall does.
type dropMarker struct {
	log     *impair.DropLog // nil: drops are not known
	drained time.Time       // the log holds every verdict on packets captured before drained-verdictDelay
}

// mark sets p.Drop if the firewall dropped the packet captured at at. It
// reports an error once, if the log fails (drops are not marked after).
func (d *dropMarker) mark(p *decode.Packet, at time.Time) error {
	if d.log == nil || p.Proto != decode.ProtoTCP && p.Proto != decode.ProtoUDP {
		return nil
	}
	if need := at.Add(verdictDelay); !d.drained.After(need) {
		if wait := time.Until(need); wait > 0 {
			time.Sleep(wait)
		}
		now := time.Now()
		if err := d.log.Drain(now); err != nil {
			d.close()
			return err
		}
		d.drained = now
	}
	if d.log.Dropped(p.Network()) {
		p.Lab.Drop = decode.DropFirewall
	}
	return nil
}

func (d *dropMarker) close() {
	if d.log != nil {
		d.log.Close()
		d.log = nil
	}
}

// dropLogFailed tells the timeline the drops are no longer marked.
func dropLogFailed(err error) i18n.Text {
	return i18n.T(fmt.Sprintf("the firewall's drop log failed (%v): packets it drops from now on are not marked", err),
		fmt.Sprintf("防火墙的丢包日志出错(%v):此后被它丢弃的报文不再标出", err))
}
