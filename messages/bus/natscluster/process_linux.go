package natscluster

import "syscall"

// dieWithParent makes the kernel kill a node when the process that started
// it dies, so a crashed test or `make cluster` leaves no server behind.
func dieWithParent() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
