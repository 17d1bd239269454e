// Package secret seals connection strings at rest with AES-256-GCM, so a
// copied catalog file or a dump of the catalog database does not give away
// the passwords of the datasets' databases.
//
// The key is 32 bytes. It comes from the MCPA_SECRET_KEY environment
// variable (base64 or hex) when set, otherwise from a key file in the data
// directory that is created on first use with mode 0600. Several replicas
// sharing one catalog must share the key: set MCPA_SECRET_KEY on all of them.
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// EnvKey is the environment variable holding the key.
const EnvKey = "MCPA_SECRET_KEY"

// KeyFileName is the key file's name inside the data directory.
const KeyFileName = "secret.key"

// prefix marks a sealed value; values without it are plaintext written
// before sealing existed and are sealed by the stores' migration.
const prefix = "sealed:v1:"

// ErrWrongKey is returned when a sealed value was sealed with another key
// (or altered).
var ErrWrongKey = errors.New("sealed value cannot be opened with this key: the catalog was written with another secret key (check " + EnvKey + " or " + KeyFileName + ")")

// Box seals and opens values with one key. It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a Box for a 32-byte key.
func New(key []byte) (*Box, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key must be 32 bytes (AES-256), not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &Box{aead: aead}, nil
}

// ParseKey decodes a key written as base64 (standard or URL alphabet, with
// or without padding) or as 64 hex digits.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, errors.New("secret key must be 32 bytes written as base64 or 64 hex digits (generate one with: openssl rand -base64 32)")
}

// Load returns the Box for a data directory: the key of environ's
// MCPA_SECRET_KEY when set, otherwise that of dataDir's key file, which is
// created (mode 0600) when missing.
func Load(environ []string, dataDir string) (*Box, error) {
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, EnvKey+"="); ok && v != "" {
			key, err := ParseKey(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", EnvKey, err)
			}
			return New(key)
		}
	}
	return LoadFile(filepath.Join(dataDir, KeyFileName))
}

// LoadFile returns the Box of the key file at path, creating the file with
// a new random key (mode 0600) when it does not exist. A key file readable
// by others is refused.
func LoadFile(path string) (*Box, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return createKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret key file: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("secret key file %s is readable by others (mode %v); run: chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	key, err := ParseKey(string(data))
	if err != nil {
		return nil, fmt.Errorf("secret key file %s: %w", path, err)
	}
	return New(key)
}

func createKeyFile(path string) (*Box, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate secret key: %w", err)
	}
	// O_EXCL: when two processes start at once, one creates the file and
	// the other reads it.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return LoadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("create secret key file: %w", err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write secret key file: %w", err)
	}
	return New(key)
}

// Seal encrypts plaintext with a fresh random nonce. The result is text,
// safe to store in a TEXT column.
func (b *Box) Seal(plaintext string) (string, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("seal: %w", err)
	}
	out := b.aead.Seal(nonce, nonce, []byte(plaintext), nil)
	return prefix + base64.RawStdEncoding.EncodeToString(out), nil
}

// Open decrypts a value made by Seal. It returns ErrWrongKey when the value
// was sealed with another key or altered.
func (b *Box) Open(sealed string) (string, error) {
	enc, ok := strings.CutPrefix(sealed, prefix)
	if !ok {
		return "", errors.New("value is not sealed")
	}
	data, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil || len(data) < b.aead.NonceSize() {
		return "", ErrWrongKey
	}
	n := b.aead.NonceSize()
	plain, err := b.aead.Open(nil, data[:n], data[n:], nil)
	if err != nil {
		return "", ErrWrongKey
	}
	return string(plain), nil
}

// IsSealed reports whether s was made by Seal (of any key).
func IsSealed(s string) bool { return strings.HasPrefix(s, prefix) }
