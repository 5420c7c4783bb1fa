//go:build !linux

package childproc

import "syscall"

// Attr is nil where the system has no parent-death signal: the child may
// outlive an interrupted run.
func Attr() *syscall.SysProcAttr { return nil }
