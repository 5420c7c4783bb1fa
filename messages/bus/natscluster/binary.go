package natscluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
)

// BinaryVariable names a nats-server binary to run instead of building one.
const BinaryVariable = "NATS_SERVER_BIN"

const serverModule = "github.com/nats-io/nats-server/v2"

// ServerBinary returns the path of a nats-server binary: $NATS_SERVER_BIN
// when set, else the module's nats-server built with `go build` (run in
// the current directory, which must be inside this module so the version
// of go.mod is built) and cached in the user's cache directory under its
// version, so it is built once per machine and version.
func ServerBinary(ctx context.Context) (string, error) {
	if bin := os.Getenv(BinaryVariable); bin != "" {
		return bin, nil
	}
	version := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == serverModule {
				version = d.Version + "-" + strings.NewReplacer("/", "_", "+", "-", "=", "").Replace(d.Sum)
			}
		}
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "csp-processor")
	bin := filepath.Join(dir, "nats-server-"+version)
	if _, err := os.Stat(bin); err == nil && version != "unknown" {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("natscluster: %w", err)
	}
	// Built under a temporary name and renamed, so a concurrent build or
	// an interrupted one never leaves a half-written binary under bin.
	tmp, err := os.CreateTemp(dir, "nats-server-build-")
	if err != nil {
		return "", fmt.Errorf("natscluster: %w", err)
	}
	_ = tmp.Close()
	defer os.Remove(tmp.Name())
	out, err := exec.CommandContext(ctx, "go", "build", "-o", tmp.Name(), serverModule).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("natscluster: go build %s (set %s to use a built one): %v\n%s", serverModule, BinaryVariable, err, out)
	}
	if err := os.Rename(tmp.Name(), bin); err != nil {
		return "", fmt.Errorf("natscluster: %w", err)
	}
	return bin, nil
}
