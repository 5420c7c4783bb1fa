//go:build !linux

package redisserver

import "syscall"

// sysProcAttr has no parent-death signal outside Linux; a killed parent may
// leave the server running there until it is stopped by hand.
func sysProcAttr() *syscall.SysProcAttr { return nil }
