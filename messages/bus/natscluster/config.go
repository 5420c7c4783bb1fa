package natscluster

import (
	"fmt"
	"strconv"
	"strings"
)

// nodeConfig is the shipped cluster-node.conf with what cannot be shared by
// several nodes on one machine moved: the client, monitoring and route
// listeners to 127.0.0.1 and free ports, the store to the node's directory.
// Everything else (TLS, route authorization, JetStream limits, the
// accounts) is the shipped text. A replacement that finds nothing fails,
// so a changed shipped file cannot slip through unmoved.
func nodeConfig(shipped []byte, n ports, storeDir string) (string, error) {
	conf := string(shipped)
	for _, r := range []struct{ from, to string }{
		{"listen: 0.0.0.0:4222", "listen: 127.0.0.1:" + strconv.Itoa(n.client)},
		{"http: 127.0.0.1:8222", "http: 127.0.0.1:" + strconv.Itoa(n.monitor)},
		{"store_dir: /var/lib/nats", "store_dir: " + strconv.Quote(storeDir)},
		{"listen: 0.0.0.0:6222", "listen: 127.0.0.1:" + strconv.Itoa(n.route)},
	} {
		if c := strings.Count(conf, r.from); c != 1 {
			return "", fmt.Errorf("natscluster: the shipped cluster-node.conf has %q %d times, want once "+
				"(update natscluster's nodeConfig with the shipped file)", r.from, c)
		}
		conf = strings.Replace(conf, r.from, r.to, 1)
	}
	return conf, nil
}

// ports are one node's listeners on 127.0.0.1.
type ports struct{ client, monitor, route int }

// routesVariable is the value of CSP_NATS_ROUTES: every node's route URL
// with the route user and password, as the shipped config expects.
func routesVariable(password string, nodes []ports) string {
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = "nats-route://route:" + password + "@127.0.0.1:" + strconv.Itoa(n.route)
	}
	return "[" + strings.Join(urls, ", ") + "]"
}
