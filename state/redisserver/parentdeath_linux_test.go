package redisserver

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER from <linux/prctl.h>, which
// package syscall does not define.
const prSetChildSubreaper = 36

// helperEnv marks the child process of TestKilledParentTakesServerDown.
const helperEnv = "REDISSERVER_TEST_HELPER"

// TestHelperProcess is not a real test: run as a child, it starts a server,
// prints the server's pid and address and blocks until killed.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("helper process for TestKilledParentTakesServerDown")
	}
	s, err := Start(context.Background(), Options{})
	if err != nil {
		fmt.Println("ERR", err)
		os.Exit(1)
	}
	fmt.Println(s.cmd.Process.Pid, s.Addr())
	select {}
}

func TestKilledParentTakesServerDown(t *testing.T) {
	// As a subreaper this process inherits the orphaned redis-server, so it
	// can watch it die and reap it instead of leaving a zombie behind.
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		t.Fatalf("prctl(PR_SET_CHILD_SUBREAPER): %v", errno)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	var (
		pid  int
		addr string
	)
	line, err := bufio.NewReader(out).ReadString('\n')
	if _, scanErr := fmt.Sscan(line, &pid, &addr); err != nil || scanErr != nil {
		t.Fatalf("helper said %q (%v, %v)", line, err, scanErr)
	}
	if err := ping(context.Background(), addr); err != nil {
		t.Fatalf("helper's server does not answer: %v", err)
	}

	// SIGKILL: no deferred Close, no t.Cleanup in the helper.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	reaped := make(chan syscall.WaitStatus, 1)
	go func() {
		var ws syscall.WaitStatus
		for {
			_, err := syscall.Wait4(pid, &ws, 0, nil)
			if err != syscall.EINTR {
				break
			}
		}
		reaped <- ws
	}()
	select {
	case ws := <-reaped:
		if !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Errorf("redis-server ended with %v, want killed by SIGKILL", ws)
		}
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(pid, syscall.SIGKILL)
		t.Fatalf("redis-server (pid %d) still running 5s after its parent was killed", pid)
	}
	if err := ping(context.Background(), addr); err == nil {
		t.Errorf("something still answers at %s", addr)
	}
}
