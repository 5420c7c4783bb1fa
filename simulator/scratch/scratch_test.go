package scratch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDirIsInMemoryWhenTheMachineHasIt(t *testing.T) {
	mem := t.TempDir() // stands in for /dev/shm
	defer func(old string) { memoryDir = old }(memoryDir)
	memoryDir = mem
	dir, err := Dir("run-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if filepath.Dir(dir) != mem || !strings.HasPrefix(filepath.Base(dir), "run-") {
		t.Fatalf("Dir = %s, want a run-* directory in %s", dir, mem)
	}
}

func TestDirFallsBackToTheTemporaryDirectory(t *testing.T) {
	defer func(old string) { memoryDir = old }(memoryDir)
	memoryDir = filepath.Join(t.TempDir(), "missing")
	dir, err := Dir("run-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if filepath.Dir(dir) != filepath.Clean(os.TempDir()) {
		t.Fatalf("Dir = %s, want it in %s", dir, os.TempDir())
	}
}
