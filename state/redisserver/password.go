package redisserver

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// PasswordFile is the name LoadOrCreatePassword's callers give the file in
// a private server's data directory.
const PasswordFile = "password"

// minPasswordLen refuses a password file someone shortened by hand: the
// generated ones are 64 hex digits (256 random bits).
const minPasswordLen = 32

// LoadOrCreatePassword returns the password kept in file, making a random
// one on first use. The file is written 0600 and its directory made 0700
// (tightened if it exists), so only the owner reads the password; a file
// that others can read is refused rather than used, since its password may
// have leaked. Keeping the password on disk lets a restarted server keep
// its password and the clients that know it keep working.
func LoadOrCreatePassword(file string) (string, error) {
	dir := filepath.Dir(file)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("redisserver: password dir: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return "", fmt.Errorf("redisserver: password dir: %w", err)
	}
	pw, err := readPassword(file)
	if !errors.Is(err, fs.ErrNotExist) {
		return pw, err
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", fmt.Errorf("redisserver: generate password: %w", err)
	}
	pw = hex.EncodeToString(buf)
	// O_EXCL: when two processes start on the same directory at once, the
	// second reads the first one's password instead of replacing it.
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return readPassword(file)
	}
	if err != nil {
		return "", fmt.Errorf("redisserver: password file: %w", err)
	}
	_, werr := f.WriteString(pw + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(file)
		return "", fmt.Errorf("redisserver: write password file %s: %w", file, err)
	}
	return pw, nil
}

// readPassword reads a password file, refusing one that group or others
// may read or that does not hold a usable password.
func readPassword(file string) (string, error) {
	st, err := os.Stat(file)
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("redisserver: password file %s has mode %04o: others may have read it; "+
			"delete it (a new password is made) or chmod 600 it", file, st.Mode().Perm())
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("redisserver: %w", err)
	}
	pw := strings.TrimSpace(string(b))
	if len(pw) < minPasswordLen {
		return "", fmt.Errorf("redisserver: password file %s holds %d characters, want at least %d; delete it to have a new one made",
			file, len(pw), minPasswordLen)
	}
	if err := checkWord("password", pw); err != nil {
		return "", fmt.Errorf("%w (password file %s)", err, file)
	}
	return pw, nil
}

// PrivateUser is the ACL user of StartPrivate's server.
const PrivateUser = "processor"

// StartPrivate starts the server the processor (without REDIS_URL) and the
// simulator keep their state in: data in dir, the AOF synced before every
// reply, and only PrivateUser allowed in, with the password kept in
// dir/PasswordFile (made on first start, reused after). Only 127.0.0.1 is
// bound, but anyone on the machine could otherwise read and rewrite every
// customer's state.
func StartPrivate(ctx context.Context, dir string) (*Server, error) {
	pw, err := LoadOrCreatePassword(filepath.Join(dir, PasswordFile))
	if err != nil {
		return nil, err
	}
	return Start(ctx, Options{Dir: dir, Appendonly: true, User: PrivateUser, Password: pw})
}
