// Package cluster runs the whole system on loopback as it runs in
// production, every part a real process: a 3-node JetStream cluster from
// the shipped configuration (TLS, the shipped users), a Redis Cluster of
// 3 masters with 2 replicas each (AOF synced before every reply), and N
// replicas of the processor binary sharing the command partitions through
// leases, with R3 streams and every commit waiting for one Redis replica.
// It kills and restarts any part (a processor replica, the command
// stream's NATS leader, a Redis master), starts new replicas (growth), and
// gives the simulator its connection settings as the simulator user.
//
// `simulator cluster` (make cluster) plays the simulator's load against it;
// the test of this package (make test-cluster, build tag "cluster") kills
// each part under load and requires nothing lost, duplicated or out of
// order.
package cluster
