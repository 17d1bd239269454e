package secret

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBox_SealOpen(t *testing.T) {
	box, err := LoadFile(filepath.Join(t.TempDir(), KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	const dsn = "postgres://reader:s3cret@db.internal/panel"
	a, err := box.Seal(dsn)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := box.Seal(dsn)
	if a == b {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	if strings.Contains(a, "s3cret") || !IsSealed(a) {
		t.Errorf("sealed value %q shows the secret or lacks the prefix", a)
	}
	got, err := box.Open(a)
	if err != nil || got != dsn {
		t.Errorf("Open = %q, %v; want %q", got, err, dsn)
	}
	other, _ := LoadFile(filepath.Join(t.TempDir(), KeyFileName))
	if _, err := other.Open(a); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open with another key: err = %v, want ErrWrongKey", err)
	}
	tampered := a[:len(a)-2] + "AA"
	if _, err := box.Open(tampered); !errors.Is(err, ErrWrongKey) {
		t.Errorf("Open of an altered value: err = %v, want ErrWrongKey", err)
	}
	if _, err := box.Open(dsn); err == nil {
		t.Error("Open of plaintext: no error")
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	fromFile, err := Load(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	again, err := Load(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	sealed, _ := fromFile.Seal("x")
	if got, err := again.Open(sealed); err != nil || got != "x" {
		t.Errorf("the key file was not reused: %q, %v", got, err)
	}

	const hexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	fromEnv, err := Load([]string{EnvKey + "=" + hexKey}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	b64, _ := Load([]string{EnvKey + "=AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, t.TempDir())
	sealed, _ = fromEnv.Seal("y")
	if got, err := b64.Open(sealed); err != nil || got != "y" {
		t.Errorf("hex and base64 spellings of one key differ: %q, %v", got, err)
	}
	if _, err := Load([]string{EnvKey + "=short"}, dir); err == nil || !strings.Contains(err.Error(), EnvKey) {
		t.Errorf("bad env key: err = %v", err)
	}

	loose := filepath.Join(t.TempDir(), KeyFileName)
	os.WriteFile(loose, []byte(hexKey), 0o644)
	if _, err := LoadFile(loose); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("world-readable key file: err = %v", err)
	}
}
