package main

import "github.com/nats-io/nats.go"

// connectDemo is set when the processor starts its embedded NATS server:
// it connects as the simulator user, since the demo plays the order system
// and billing, which the processor's own user may not (it cannot publish a
// partner's commands).
var connectDemo func() (*nats.Conn, error)

// demoConnection is the demo's own connection to the embedded server, or,
// with NATS_URL, the processor's connection as before.
func demoConnection(nc *nats.Conn) (*nats.Conn, func(), error) {
	if connectDemo == nil {
		return nc, func() {}, nil
	}
	dnc, err := connectDemo()
	if err != nil {
		return nil, nil, err
	}
	return dnc, dnc.Close, nil
}
