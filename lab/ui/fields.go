package ui

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/netlab/netlab/lab/decode"
	"github.com/netlab/netlab/lab/i18n"
)

// field is one line of the details pane: a layer heading or a header field,
// with its value, what it means, and where its bytes are in the frame.
type field struct {
	heading bool
	osi     int
	name    i18n.Text
	value   string
	mean    i18n.Text
	off, n  int // bytes [off, off+n) of the frame
}

var (
	layerLink      = i18n.T("link", "链路层")
	layerNetwork   = i18n.T("network", "网络层")
	layerTransport = i18n.T("transport", "传输层")
	layerApp       = i18n.T("application", "应用层")
)

// dissect lists the layers and fields of a packet, decoding it fully (this
// allocates: it is done for the one packet on screen).
func dissect(p *decode.Packet, sent time.Time) []field {
	full := decode.Full(p)
	var out []field
	out = append(out, wireFields(p, sent)...)
	offset := func(b []byte) int {
		if len(b) == 0 {
			return 0
		}
		return cap(p.Data) - cap(b)
	}
	heading := func(osi int, layer i18n.Text, name string, off, n int, mean i18n.Text) {
		out = append(out, field{heading: true, osi: osi, name: i18n.T(
			fmt.Sprintf("L%d %s · %s", osi, layer.En, name),
			fmt.Sprintf("第%d层 %s · %s", osi, layer.Zh, name)), value: bytesWord(n), off: off, n: n, mean: mean})
	}
	add := func(off, n int, en, zh, value string, mean i18n.Text) {
		out = append(out, field{name: i18n.T(en, zh), value: value, off: off, n: n, mean: mean})
	}
	for _, l := range full.Layers() {
		c := l.LayerContents()
		o := offset(c)
		switch l := l.(type) {
		case *layers.Ethernet:
			mean := i18n.T(
				"The frame on the link. Loopback has no hardware, so both addresses are zero; the kernel still builds an Ethernet header.",
				"链路上的帧。环回接口没有硬件,所以两个地址都是 0;内核仍然构造了以太网头部。")
			if p.Lab.Wire.Crossed() {
				mean = i18n.T("The frame on the lab wire: each host's eth0 has a MAC address of its own.",
					"实验线路上的帧:每台主机的 eth0 都有自己的 MAC 地址。")
			}
			heading(2, layerLink, "Ethernet II", o, len(c), mean)
			add(o, 6, "Destination MAC", "目的 MAC", l.DstMAC.String(), i18n.T("who on the link receives the frame", "链路上由谁接收这个帧"))
			add(o+6, 6, "Source MAC", "源 MAC", l.SrcMAC.String(), i18n.T("who on the link sent it", "链路上由谁发送"))
			add(o+12, 2, "EtherType", "类型", fmt.Sprintf("0x%04x (%s)", uint16(l.EthernetType), l.EthernetType), i18n.T("which protocol the payload is: 0x0800 IPv4, 0x86dd IPv6", "载荷是什么协议:0x0800 为 IPv4,0x86dd 为 IPv6"))
		case *layers.LinuxSLL:
			heading(2, layerLink, "Linux cooked capture", o, len(c), i18n.T("a pseudo link header made by the capture", "抓包生成的伪链路层头部"))
		case *layers.Loopback:
			heading(2, layerLink, "BSD loopback", o, len(c), i18n.T("the address family of the packet", "报文的地址族"))
		case *layers.IPv4:
			heading(3, layerNetwork, "IPv4", o, len(c), i18n.T(
				"Carries the segment from host to host: addresses, time to live, fragmentation.",
				"把报文段从一台主机送到另一台:地址、生存时间、分片。"))
			add(o, 1, "Version, header length", "版本、头部长度", fmt.Sprintf("%d, %d bytes", l.Version, int(l.IHL)*4), i18n.T("IP version 4; the header is IHL×4 bytes (20 without options)", "IP 版本 4;头部长度为 IHL×4 字节(无选项时为 20)"))
			add(o+1, 1, "DSCP/ECN", "区分服务/ECN", fmt.Sprintf("0x%02x", l.TOS), i18n.T("priority class and congestion notification bits", "优先级类别和拥塞通知位"))
			add(o+2, 2, "Total length", "总长度", strconv.Itoa(int(l.Length)), i18n.T("IP header + TCP/UDP header + payload, in bytes", "IP 头部 + TCP/UDP 头部 + 载荷的字节数"))
			add(o+4, 2, "Identification", "标识", strconv.Itoa(int(l.Id)), i18n.T("groups the fragments of one datagram", "用于把同一数据报的分片归在一起"))
			add(o+6, 2, "Flags, fragment offset", "标志、片偏移", fmt.Sprintf("%s, %d", l.Flags, l.FragOffset), i18n.T("DF: do not fragment (TCP relies on path MTU discovery instead)", "DF:不分片(TCP 依靠路径 MTU 发现)"))
			add(o+8, 1, "Time to live", "生存时间 TTL", strconv.Itoa(int(l.TTL)), i18n.T("hops left; each router subtracts 1 and drops the packet at 0", "剩余跳数;每个路由器减 1,减到 0 就丢弃"))
			add(o+9, 1, "Protocol", "协议", fmt.Sprintf("%d (%s)", l.Protocol, l.Protocol), i18n.T("what the payload is: 6 TCP, 17 UDP, 1 ICMP", "载荷的协议:6 为 TCP,17 为 UDP,1 为 ICMP"))
			add(o+10, 2, "Header checksum", "头部校验和", fmt.Sprintf("0x%04x", l.Checksum), i18n.T("covers the IP header only", "只覆盖 IP 头部"))
			add(o+12, 4, "Source address", "源地址", l.SrcIP.String(), i18n.T("the sending host", "发送方主机"))
			add(o+16, 4, "Destination address", "目的地址", l.DstIP.String(), i18n.T("the receiving host", "接收方主机"))
			if hl := int(l.IHL) * 4; hl > 20 {
				add(o+20, hl-20, "Options", "选项", bytesWord(hl-20), i18n.T("rarely used IP options", "很少使用的 IP 选项"))
			}
		case *layers.IPv6:
			heading(3, layerNetwork, "IPv6", o, len(c), i18n.T("Carries the segment from host to host.", "把报文段从一台主机送到另一台。"))
			add(o, 4, "Version, class, flow label", "版本、流量类别、流标签", fmt.Sprintf("%d, 0x%02x, 0x%05x", l.Version, l.TrafficClass, l.FlowLabel), i18n.T("IP version 6, priority, and a label for packets of one flow", "IP 版本 6、优先级以及同一流的标签"))
			add(o+4, 2, "Payload length", "载荷长度", strconv.Itoa(int(l.Length)), i18n.T("bytes after this 40-byte header", "40 字节头部之后的字节数"))
			add(o+6, 1, "Next header", "下一个头部", fmt.Sprintf("%d (%s)", l.NextHeader, l.NextHeader), i18n.T("what follows: 6 TCP, 17 UDP, 58 ICMPv6", "后面是什么:6 为 TCP,17 为 UDP,58 为 ICMPv6"))
			add(o+7, 1, "Hop limit", "跳数限制", strconv.Itoa(int(l.HopLimit)), i18n.T("IPv6's TTL", "IPv6 的 TTL"))
			add(o+8, 16, "Source address", "源地址", l.SrcIP.String(), i18n.T("the sending host", "发送方主机"))
			add(o+24, 16, "Destination address", "目的地址", l.DstIP.String(), i18n.T("the receiving host", "接收方主机"))
		case *layers.TCP:
			tcpFields(p, l, o, len(c), heading, add)
		case *layers.UDP:
			heading(4, layerTransport, "UDP", o, len(c), i18n.T(
				"Datagrams: ports, a length and a checksum. No connection, no order, no retransmission.",
				"数据报:端口、长度和校验和。无连接、不保证顺序、不重传。"))
			add(o, 2, "Source port", "源端口", strconv.Itoa(int(l.SrcPort)), i18n.T("the sending socket's port", "发送方套接字的端口"))
			add(o+2, 2, "Destination port", "目的端口", strconv.Itoa(int(l.DstPort)), i18n.T("the receiving socket's port", "接收方套接字的端口"))
			add(o+4, 2, "Length", "长度", strconv.Itoa(int(l.Length)), i18n.T("UDP header (8) + payload, in bytes", "UDP 头部(8)+ 载荷的字节数"))
			add(o+6, 2, "Checksum", "校验和", fmt.Sprintf("0x%04x", l.Checksum), i18n.T("header, payload and the IP addresses", "覆盖头部、载荷和 IP 地址"))
		case *layers.ICMPv4:
			heading(3, layerNetwork, "ICMP", o, len(c), i18n.T("IP's own messages: errors (unreachable, time exceeded) and echo (ping).", "IP 自己的消息:差错(不可达、超时)和回显(ping)。"))
			add(o, 1, "Type", "类型", strconv.Itoa(int(l.TypeCode.Type())), i18n.T(p.ICMPName(), p.ICMPName()))
			add(o+1, 1, "Code", "代码", strconv.Itoa(int(l.TypeCode.Code())), i18n.T("detail of the type (3: port unreachable)", "类型的细分(3:端口不可达)"))
			add(o+2, 2, "Checksum", "校验和", fmt.Sprintf("0x%04x", l.Checksum), i18n.T("covers the ICMP message", "覆盖整个 ICMP 消息"))
		case *layers.ICMPv6:
			heading(3, layerNetwork, "ICMPv6", o, len(c), i18n.T("IPv6's own messages: errors and echo.", "IPv6 自己的消息:差错和回显。"))
			add(o, 1, "Type", "类型", strconv.Itoa(int(l.TypeCode.Type())), i18n.T(p.ICMPName(), p.ICMPName()))
			add(o+1, 1, "Code", "代码", strconv.Itoa(int(l.TypeCode.Code())), i18n.T("detail of the type", "类型的细分"))
			add(o+2, 2, "Checksum", "校验和", fmt.Sprintf("0x%04x", l.Checksum), i18n.T("covers the message and the IP addresses", "覆盖消息和 IP 地址"))
		case *gopacket.Payload:
			appFields(p, o, len(c), heading, add)
		default:
			if len(c) > 0 {
				heading(0, i18n.T("other", "其他"), l.LayerType().String(), o, len(c), i18n.T("", ""))
			}
		}
	}
	return out
}

var layerWire = i18n.T("physical", "物理层")

// wireFields say where a packet on a lab network was captured and what the
// wire did to it: no bytes of the frame, the capture's own record.
func wireFields(p *decode.Packet, sent time.Time) []field {
	w := &p.Lab.Wire
	if !w.Crossed() {
		return nil
	}
	at := func(t time.Time) string { return t.Format("15:04:05.000000") }
	out := []field{
		{heading: true, osi: 1, name: i18n.T("L1 "+layerWire.En+" · lab wire", "第1层 "+layerWire.Zh+" · 实验线路"), mean: w.Text(sent)},
		{name: i18n.T("Left", "离开"), value: w.From + " " + at(sent), mean: i18n.T("captured leaving its sender's interface", "在发送方接口上抓到它离开")},
	}
	for k, a := range w.Arrivals {
		v := w.To + " " + at(a.At) + " (+" + strconv.FormatFloat(float64(a.At.Sub(sent))/float64(time.Millisecond), 'f', 3, 64) + " ms)"
		mean := i18n.T("captured arriving at its receiver's interface", "在接收方接口上抓到它到达")
		if k > 0 {
			mean = i18n.T("a second copy: the wire duplicated it", "第二个副本:线路复制了它")
		}
		if a.Data != nil {
			mean = i18n.T("this copy arrived with a bit flipped: the receiver's kernel drops it on its checksum", "这个副本到达时有一位被翻转:接收方内核因校验和错误丢弃")
		}
		out = append(out, field{name: i18n.T("Arrived", "到达"), value: v, mean: mean})
	}
	if len(w.Arrivals) == 0 {
		out = append(out, field{name: i18n.T("Arrived", "到达"), value: "—", mean: w.Text(sent)})
	}
	act := w.Action.String()
	if w.Rule != "" {
		act += " (" + w.Rule + ")"
	}
	out = append(out, field{name: i18n.T("Wire's verdict", "线路的处理"), value: act, mean: i18n.T(
		"what the relay between the hosts did: pass, drop, delay, reorder, corrupt or duplicate, and the rule that decided",
		"两台主机之间的中继做了什么:放行、丢弃、延迟、乱序、损坏或复制,以及作出决定的规则")})
	return out
}

type headingFunc func(osi int, layer i18n.Text, name string, off, n int, mean i18n.Text)
type addFunc func(off, n int, en, zh, value string, mean i18n.Text)

func tcpFields(p *decode.Packet, l *layers.TCP, o, n int, heading headingFunc, add addFunc) {
	heading(4, layerTransport, "TCP", o, n, i18n.T(
		"A reliable byte stream between two ports: sequence numbers count bytes, ACKs confirm them, the window says how much more the receiver takes.",
		"两个端口之间可靠的字节流:序号给字节编号,ACK 确认收到,窗口告诉对方还能接收多少。"))
	add(o, 2, "Source port", "源端口", strconv.Itoa(int(l.SrcPort)), i18n.T("the sending socket's port (a client's is ephemeral, picked by the kernel)", "发送方套接字的端口(客户端端口是内核挑选的临时端口)"))
	add(o+2, 2, "Destination port", "目的端口", strconv.Itoa(int(l.DstPort)), i18n.T("the receiving socket's port", "接收方套接字的端口"))
	add(o+4, 4, "Sequence number", "序号", fmt.Sprintf("%d (relative %d)", l.Seq, p.Flow.RelSeq), i18n.T(
		"number of this segment's first byte; relative = counted from the sender's ISN, as the ladder shows. SYN and FIN each use one number.",
		"本报文段第一个字节的编号;相对序号从发送方的 ISN 算起(梯形图显示的就是它)。SYN 和 FIN 各占一个序号。"))
	ack := "—"
	if l.ACK {
		ack = fmt.Sprintf("%d (relative %d)", l.Ack, p.Flow.RelAck)
	}
	add(o+8, 4, "Acknowledgment number", "确认号", ack, i18n.T(
		"the next byte the sender expects from the peer: everything before it arrived (valid with the ACK flag)",
		"发送方期望对方发来的下一个字节:之前的字节都已收到(ACK 标志置位时有效)"))
	add(o+12, 1, "Header length", "头部长度", fmt.Sprintf("%d bytes", int(l.DataOffset)*4), i18n.T("data offset×4: 20 bytes plus options", "数据偏移×4:20 字节加上选项"))
	add(o+12, 2, "Flags", "标志", p.Flags.String(), i18n.T(
		"SYN opens, FIN closes one direction, RST aborts, ACK: the ack number is valid, PSH: deliver to the program now",
		"SYN 建立连接,FIN 关闭一个方向,RST 异常终止,ACK 表示确认号有效,PSH 表示立即交给应用程序"))
	win := strconv.Itoa(int(l.Window))
	if p.Flow.WinBytes != uint32(l.Window) {
		win = fmt.Sprintf("%d (scaled: %d bytes)", l.Window, p.Flow.WinBytes)
	}
	add(o+14, 2, "Window", "窗口", win, i18n.T(
		"how many more bytes the sender of this segment can receive; multiplied by 2^wscale after the handshake (not in SYNs)",
		"本报文段发送方还能接收的字节数;握手后要乘以 2^wscale(SYN 中不乘)"))
	add(o+16, 2, "Checksum", "校验和", fmt.Sprintf("0x%04x", l.Checksum), i18n.T(
		"header, payload and the IP addresses; on loopback the kernel may leave it unfinished (checksum offload: nothing can corrupt it)",
		"覆盖头部、载荷和 IP 地址;在环回接口上内核可能不计算完(校验和卸载:不会出错)"))
	add(o+18, 2, "Urgent pointer", "紧急指针", strconv.Itoa(int(l.Urgent)), i18n.T("with URG: where urgent data ends (practically unused)", "URG 置位时表示紧急数据的结束位置(几乎不用)"))
	hl := int(l.DataOffset) * 4
	if hl <= 20 || len(l.Contents) < hl {
		return
	}
	opt := l.Contents[20:hl]
	for i := 0; i < len(opt); {
		kind := opt[i]
		size := 1
		if kind > 1 {
			if i+1 >= len(opt) || opt[i+1] < 2 {
				break
			}
			size = int(opt[i+1])
		}
		if i+size > len(opt) {
			break
		}
		data := opt[i+min(2, size) : i+size]
		name, value, mean := tcpOption(kind, data)
		add(o+20+i, size, name.En, name.Zh, value, mean)
		i += size
		if kind == 0 {
			break
		}
	}
}

func tcpOption(kind byte, data []byte) (i18n.Text, string, i18n.Text) {
	switch kind {
	case 0:
		return i18n.T("Option: end of list", "选项:结束"), "", i18n.T("no more options", "没有更多选项")
	case 1:
		return i18n.T("Option: NOP", "选项:NOP"), "", i18n.T("padding that aligns the next option", "填充,用于对齐下一个选项")
	case 2:
		if len(data) == 2 {
			return i18n.T("Option: MSS", "选项:MSS"), strconv.Itoa(int(binary.BigEndian.Uint16(data))), i18n.T(
				"largest segment payload this side accepts; on loopback 65495 = 65535 (largest IPv4 packet) − 20 (IP header) − 20 (TCP header)",
				"本方能接收的最大报文段载荷;环回接口上为 65495 = 65535(IPv4 报文最大长度)− 20(IP 头部)− 20(TCP 头部)")
		}
	case 3:
		if len(data) == 1 {
			return i18n.T("Option: window scale", "选项:窗口扩大因子"), fmt.Sprintf("%d (×%d)", data[0], 1<<data[0]), i18n.T(
				"the window field of this side's later segments is multiplied by 2^scale (only in SYNs)",
				"本方之后报文段的窗口字段要乘以 2^scale(只出现在 SYN 中)")
		}
	case 4:
		return i18n.T("Option: SACK permitted", "选项:允许 SACK"), "", i18n.T("selective acknowledgement may be used: the receiver can report the blocks it has beyond a gap", "可以使用选择性确认:接收方可以报告缺口之后已收到的数据块")
	case 5:
		var parts []string
		for i := 0; i+8 <= len(data); i += 8 {
			parts = append(parts, fmt.Sprintf("%d-%d", binary.BigEndian.Uint32(data[i:]), binary.BigEndian.Uint32(data[i+4:])))
		}
		return i18n.T("Option: SACK", "选项:SACK"), strings.Join(parts, " "), i18n.T("blocks received beyond a gap", "缺口之后已收到的数据块")
	case 8:
		if len(data) == 8 {
			return i18n.T("Option: timestamps", "选项:时间戳"), fmt.Sprintf("val=%d ecr=%d", binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:])), i18n.T(
				"the sender's clock and the last value it received: RTT measurement and protection against wrapped sequence numbers (PAWS)",
				"发送方的时钟值和它最近收到的对方时钟值:用于测量 RTT 和防止序号回绕(PAWS)")
		}
	}
	return i18n.T(fmt.Sprintf("Option %d", kind), fmt.Sprintf("选项 %d", kind)), fmt.Sprintf("% x", data), i18n.T("", "")
}

func appFields(p *decode.Packet, o, n int, heading headingFunc, add addFunc) {
	name := "payload"
	if p.App != nil && p.App.Proto != "" {
		name = strings.ToUpper(p.App.Proto)
	}
	heading(7, layerApp, name, o, n, i18n.T(
		"The program's bytes. TCP/IP has no separate session (5) and presentation (6) layers: the program does that work itself.",
		"程序自己的字节。TCP/IP 没有单独的会话层(5)和表示层(6):这些工作由程序自己完成。"))
	payload := p.Data[o:min(o+n, len(p.Data))]
	preview := payload
	if len(preview) > 48 {
		preview = preview[:48]
	}
	q := strconv.Quote(string(preview))
	if len(payload) > len(preview) {
		q += "…"
	}
	add(o, n, "Data", "数据", q, i18n.T(
		"what write() handed the kernel; TCP keeps no message boundaries, so one write may be split or merged with others",
		"write() 交给内核的字节;TCP 不保留消息边界,一次 write 可能被拆开或与其他数据合并"))
	if p.App != nil {
		add(o, n, "Summary", "摘要", p.App.Summary(), i18n.T("what the application protocol says", "应用层协议的内容"))
		many := len(p.App.Messages) > 1
		for i, m := range p.App.Messages {
			if many {
				add(o, n, fmt.Sprintf("Message %d", i+1), fmt.Sprintf("消息 %d", i+1), m.Summary, i18n.T(
					"this packet completes several application messages; the fields below are this one's",
					"这个报文完成了好几条应用层消息;下面是这一条的字段"))
			}
			for _, f := range m.Fields {
				add(o, n, f.Key, f.Key, f.Value, i18n.T("", ""))
			}
		}
	}
}

func bytesWord(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.Itoa(n) + " bytes"
}
