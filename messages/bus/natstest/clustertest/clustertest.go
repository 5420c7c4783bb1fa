// Package clustertest runs a local 3-node JetStream cluster
// (messages/bus/natscluster: real nats-server processes from the shipped
// configuration) for one test: stores in memory (/dev/shm) where the
// machine has it, every node stopped and its output logged when the test
// fails. It is apart from natstest because natscluster embeds the shipped
// configuration of package deployments, whose own tests use natstest.
package clustertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/cspreseller/csp-processor/messages/bus/natscluster"
)

// Run starts a cluster of n nodes (0: 3) and returns once JetStream has a
// meta leader.
func Run(t testing.TB, n int) *natscluster.Cluster {
	t.Helper()
	// In memory where the machine has it: fsync costs nothing there, and
	// a killed node's store survives as on a disk.
	dir, err := os.MkdirTemp("/dev/shm", "natscluster-")
	if err != nil {
		dir = t.TempDir()
	} else {
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // includes a first build of nats-server
	defer cancel()
	c, err := natscluster.Start(ctx, natscluster.Config{Dir: dir, Nodes: n})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i := range c.Size() {
				t.Logf("last output of %s:\n%s", natscluster.NodeName(i), c.Output(i))
			}
		}
		c.Stop()
	})
	return c
}

// Connect logs in as user (to the given nodes only, or to any), with a
// JetStream context whose async publishes time out after 10 s; closed when
// the test ends.
func Connect(t testing.TB, c *natscluster.Cluster, user string, nodes ...int) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := c.Connect(user, nodes, nats.Name(t.Name()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}
