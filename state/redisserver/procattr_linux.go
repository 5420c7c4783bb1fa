package redisserver

import "syscall"

// sysProcAttr makes the kernel kill redis-server when the process that
// started it dies, so a test binary killed by a timeout or SIGKILL (its
// t.Cleanup never runs) does not leave servers behind. Strictly the signal
// follows the starting OS thread; the Go runtime ends threads only when a
// goroutine exits while locked to one, which this package never does.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
