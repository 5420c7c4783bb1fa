package childproc

import "syscall"

// Attr makes the child receive SIGKILL when the process that started it
// dies.
func Attr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
