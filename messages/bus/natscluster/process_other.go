//go:build !linux

package natscluster

import "syscall"

// dieWithParent: only Linux can tie a child's life to its parent's; stop the
// cluster (Cluster.Stop) before exiting.
func dieWithParent() *syscall.SysProcAttr { return nil }
