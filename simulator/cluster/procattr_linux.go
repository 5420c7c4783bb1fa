package cluster

import "syscall"

// childAttr makes a processor die with the process that started it, so
// that an interrupted run leaves none behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
