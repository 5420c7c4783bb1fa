// Package redisconn builds the client options for an external Redis from
// the settings an operator gives: a URL, which carries the address, the
// database, the ACL user and its password, and for TLS (rediss://) the
// files of a private CA and a client certificate. The processor and the
// simulator both connect this way, so one set of settings reaches both.
package redisconn

import (
	"fmt"
	"net/url"
	"os"

	"github.com/redis/go-redis/v9"

	"github.com/cspreseller/csp-processor/deployments/tlsfiles"
)

// The environment variables FromEnv reads.
const (
	EnvURL     = "REDIS_URL"      // redis://[user:password@]host:port/db or rediss://... for TLS
	EnvTLSCA   = "REDIS_TLS_CA"   // PEM file of the CA that signed the server's certificate (default: system roots)
	EnvTLSCert = "REDIS_TLS_CERT" // PEM file of the client certificate, for servers with tls-auth-clients yes
	EnvTLSKey  = "REDIS_TLS_KEY"  // its private key
)

// Config is how to reach an external Redis.
type Config struct {
	URL string
	TLS tlsfiles.Files // used only with a rediss:// URL
}

// FromEnv reads REDIS_URL and the REDIS_TLS_* files.
func FromEnv() Config {
	return Config{URL: os.Getenv(EnvURL), TLS: tlsfiles.Files{
		CA: os.Getenv(EnvTLSCA), Cert: os.Getenv(EnvTLSCert), Key: os.Getenv(EnvTLSKey),
	}}
}

// Options parses the URL (go-redis's ParseURL: user, password, database,
// query options) and adds the TLS files. TLS files with a redis:// URL are
// refused: the connection would not use them, and the operator who set
// them expects it to be encrypted.
func (c Config) Options() (*redis.Options, error) {
	opt, err := redis.ParseURL(c.URL)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", EnvURL, Redacted(c.URL), err)
	}
	if opt.TLSConfig == nil {
		if c.TLS.Set() {
			return nil, fmt.Errorf("%s, %s or %s is set but %s %s is not rediss://: the connection would not be encrypted",
				EnvTLSCA, EnvTLSCert, EnvTLSKey, EnvURL, Redacted(c.URL))
		}
		return opt, nil
	}
	files, err := c.TLS.Client()
	if err != nil {
		return nil, fmt.Errorf("Redis TLS (%s, %s, %s): %w", EnvTLSCA, EnvTLSCert, EnvTLSKey, err)
	}
	// Keep what ParseURL set (server name, skip_verify), add the files.
	opt.TLSConfig.RootCAs = files.RootCAs
	opt.TLSConfig.Certificates = files.Certificates
	return opt, nil
}

// Redacted is the URL with its password replaced by "xxxxx", for messages
// and logs.
func Redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Env renders c as the environment FromEnv reads, every variable present
// (empty when unset) so that a child process started with it does not
// inherit a setting meant for another server.
func (c Config) Env() []string {
	return []string{EnvURL + "=" + c.URL, EnvTLSCA + "=" + c.TLS.CA, EnvTLSCert + "=" + c.TLS.Cert, EnvTLSKey + "=" + c.TLS.Key}
}

// CheckUnused refuses TLS files given without a URL: they would be ignored
// (the private server needs none), and whoever set them expects them used.
func (c Config) CheckUnused() error {
	if c.URL == "" && c.TLS.Set() {
		return fmt.Errorf("%s, %s or %s is set without %s", EnvTLSCA, EnvTLSCert, EnvTLSKey, EnvURL)
	}
	return nil
}
