// Package tlsfiles builds the client side of a TLS connection from PEM
// files, the same way for NATS and Redis, so that both read the same kinds
// of settings (a private CA, a client certificate and its key) and fail
// alike, naming the file that is wrong.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Files names the PEM files of a client's TLS settings. Empty fields are
// not used: with no CA the system's roots verify the server; with no
// certificate the client presents none.
type Files struct {
	CA   string // certificates of the authorities trusted to sign the server's certificate
	Cert string // the client's certificate (chain)
	Key  string // the client certificate's private key
}

// Set reports whether any file is named.
func (f Files) Set() bool { return f.CA != "" || f.Cert != "" || f.Key != "" }

// Client returns a TLS configuration for a client that trusts f.CA (or the
// system's roots) and presents f.Cert. A certificate without its key, or a
// key without its certificate, is an error: a half-set client certificate
// would otherwise surface as a handshake failure far from its cause.
func (f Files) Client() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s: no PEM certificate in it", f.CA)
		}
		cfg.RootCAs = pool
	}
	switch {
	case f.Cert != "" && f.Key != "":
		pair, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return nil, fmt.Errorf("client certificate %s with key %s: %w", f.Cert, f.Key, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	case f.Cert != "":
		return nil, errors.New("a client certificate is set without its key")
	case f.Key != "":
		return nil, errors.New("a client key is set without its certificate")
	}
	return cfg, nil
}
