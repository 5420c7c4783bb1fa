package redisserver

import (
	"errors"
	"fmt"
	"os"
)

// Kill ends the server at once (SIGKILL: no SHUTDOWN, no final write) and
// waits for the process to exit, as a crash would. Fault tests use it; a
// server started again on the same Dir and Port replays the AOF, which
// with appendfsync always holds every write the server acknowledged. The
// data directory is kept (Close still removes a temporary one).
func (s *Server) Kill() error {
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("redisserver: kill pid %d: %w", s.cmd.Process.Pid, err)
	}
	<-s.exited
	return nil
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.port }

// PID is the server's process ID (it stays the same after the process
// exited), for reading its CPU and memory use from /proc.
func (s *Server) PID() int { return s.cmd.Process.Pid }
