package pseudo

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// MinKeyBytes is the shortest key accepted: 256 bits, the HMAC-SHA256 block
// strength.
const MinKeyBytes = 32

// Domain labels mixed into every HMAC so the two kinds of token never collide.
const (
	subjectDomain  = "pathway.v1/subject\x00"
	incidentDomain = "pathway.v1/incident\x00"
)

// ErrEmptyIdentifier is returned when an identifier is empty after
// normalisation.
var ErrEmptyIdentifier = errors.New("pseudo: identifier is empty after normalisation")

// Key is a secret HMAC key. The zero Key is not usable; build one with NewKey
// or LoadKey.
type Key struct {
	secret []byte
}

// NewKey returns a Key holding a copy of secret, which must be at least
// MinKeyBytes long.
func NewKey(secret []byte) (Key, error) {
	if len(secret) < MinKeyBytes {
		return Key{}, fmt.Errorf("pseudo: key is %d bytes; at least %d are needed", len(secret), MinKeyBytes)
	}
	return Key{secret: append([]byte(nil), secret...)}, nil
}

// LoadKey reads a key file. The file holds the key as hex or standard base64
// text (surrounding white space ignored), at least MinKeyBytes once decoded.
// Create one with `pathwayctl tokenise --new-key FILE` or
// `head -c 32 /dev/urandom | base64 > FILE`.
func LoadKey(path string) (Key, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("pseudo: read key file: %w", err)
	}
	text := strings.TrimSpace(string(raw))
	if b, err := hex.DecodeString(text); err == nil {
		return NewKey(b)
	}
	if b, err := base64.StdEncoding.DecodeString(text); err == nil {
		return NewKey(b)
	}
	return Key{}, fmt.Errorf("pseudo: key file %s is neither hex nor base64", path)
}

// Normalise returns the canonical form of a local identifier: surrounding
// white space trimmed, inner spaces, tabs, hyphens, dots and slashes removed,
// letters upper-cased.
func Normalise(id string) string {
	var b strings.Builder
	b.Grow(len(id))
	for _, r := range strings.TrimSpace(id) {
		switch r {
		case ' ', '\t', '-', '.', '/':
			continue
		}
		b.WriteRune(r)
	}
	return strings.ToUpper(b.String())
}

// SubjectToken returns the subject token for a person identifier.
func (k Key) SubjectToken(personID string) (string, error) {
	return k.token(subjectDomain, personID)
}

// IncidentRef returns the pseudonymised incident reference for a force's own
// incident number.
func (k Key) IncidentRef(incidentNumber string) (string, error) {
	return k.token(incidentDomain, incidentNumber)
}

func (k Key) token(domain, id string) (string, error) {
	if len(k.secret) == 0 {
		return "", errors.New("pseudo: key not loaded")
	}
	n := Normalise(id)
	if n == "" {
		return "", ErrEmptyIdentifier
	}
	mac := hmac.New(sha256.New, k.secret)
	mac.Write([]byte(domain))
	mac.Write([]byte(n))
	return hex.EncodeToString(mac.Sum(nil)), nil
}

// WriteNewKey creates a key file at path holding a fresh random 32-byte key as
// hex, readable only by its owner. It refuses to overwrite an existing file.
func WriteNewKey(path string) error {
	var b [MinKeyBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("pseudo: new key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("pseudo: new key: %w", err)
	}
	if _, err := f.WriteString(hex.EncodeToString(b[:]) + "\n"); err != nil {
		_ = f.Close()
		return fmt.Errorf("pseudo: new key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("pseudo: new key: %w", err)
	}
	return nil
}
