package framing_test

import (
	"fmt"
	"strings"
	"testing/iotest"

	"github.com/netlab/netlab/lab/labsvc/framing"
)

// The same messages with a length prefix and with a newline: the bytes on
// the wire, and where each message ends in them.
func ExampleEncode() {
	msgs := []string{"hi", "bye"}
	for _, f := range []framing.Framing{framing.Prefix16, framing.Newline} {
		b, _ := framing.Encode(f, msgs)
		ends, _ := framing.Ends(f, msgs)
		fmt.Printf("%s: %q ends %v\n", f, b, ends)
	}
	// Output:
	// length prefix: "\x00\x02hi\x00\x03bye" ends [4 9]
	// delimiter: "hi\nbye\n" ends [3 7]
}

// A receiver that reads 4 bytes at a time gets pieces that cut across the
// messages; the framing gives the messages back whole.
func ExampleReadAll() {
	stream := iotest.HalfReader(strings.NewReader("hello\nsticky packets\nbye\n"))
	msgs, err := framing.ReadAll(stream, framing.Newline, 8)
	fmt.Printf("%q %v\n", msgs, err)

	_, err = framing.Decode(framing.Prefix16, []byte("\x00\x05hel"))
	fmt.Println(err)
	// Output:
	// ["hello" "sticky packets" "bye"] <nil>
	// 5 bytes left over
}
