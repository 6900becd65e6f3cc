package pack

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"time"
)

// ManifestName is the manifest's file name in a pack.
const ManifestName = "manifest.json"

// KeyPath is where a hub serves, to anyone, the PEM public key that signs
// its packs.
const KeyPath = "/evidence/signing-key.pem"

// SignatureName is the file of the manifest's signature: the base64 of the
// Ed25519 signature of manifest.json's exact bytes.
const SignatureName = "manifest.sig"

// Format names the manifest's layout.
const Format = "pathway-evidence-pack/1"

// File is one file of a pack.
type File struct {
	Name string
	Data []byte
}

// Entry is a file's line in the manifest.
type Entry struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Provenance is the publication the pack's numbers come from.
type Provenance struct {
	PublicationID       string    `json:"publication_id"`
	Agreement           string    `json:"agreement"`
	Role                string    `json:"role"`
	PublicationDecision string    `json:"publication_decision_id"`
	PolicyRevision      string    `json:"policy_revision"`
	PublishedAt         time.Time `json:"published_at"`
	DataCutoff          time.Time `json:"data_cutoff"`
	DisclosureThreshold uint32    `json:"disclosure_threshold"`
	RoundingBase        uint32    `json:"rounding_base"`
	ContentHash         string    `json:"content_hash"`
}

// Return is what a force's annual return covers.
type Return struct {
	Force       string `json:"force"`
	Year        string `json:"year"`
	Provisional bool   `json:"provisional"`
	Detentions  uint64 `json:"detentions"`
	// Revised are the detentions counted whose latest revision is above 1.
	Revised      uint64    `json:"revised"`
	LastReceived time.Time `json:"last_received"`
}

// Manifest describes a pack.
type Manifest struct {
	Format     string     `json:"format"`
	Recipient  string     `json:"recipient"`
	From       string     `json:"from"`
	To         string     `json:"to"`
	CreatedAt  time.Time  `json:"created_at"`
	DecisionID string     `json:"export_decision_id"`
	Provenance Provenance `json:"provenance"`
	// Return, for a force's annual return, says which force and year, and
	// what the counts cover; absent from an evidence pack.
	Return *Return `json:"return,omitempty"`
	// SigningKey is the SHA-256 fingerprint of the public key that signs
	// the manifest (KeyID).
	SigningKey string  `json:"signing_key"`
	Files      []Entry `json:"files"`
}

// KeyID is the fingerprint of a public key: the hex SHA-256 of its bytes.
func KeyID(pub ed25519.PublicKey) string { return Sum(pub) }

// Sum returns the hex SHA-256 of data.
func Sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// Write writes files, their manifest (m with Files filled in) and the
// manifest's signature with key as a zip.
func Write(w io.Writer, m Manifest, files []File, key ed25519.PrivateKey) error {
	if len(key) != ed25519.PrivateKeySize {
		return errors.New("pack: no signing key")
	}
	m.Format = Format
	m.Files = nil
	m.SigningKey = KeyID(key.Public().(ed25519.PublicKey))
	for _, f := range files {
		if f.Name == ManifestName || f.Name == SignatureName || !fs.ValidPath(f.Name) {
			return fmt.Errorf("pack: bad file name %q", f.Name)
		}
		m.Files = append(m.Files, Entry{Name: f.Name, SHA256: Sum(f.Data), Bytes: int64(len(f.Data))})
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	raw = append(raw, '\n')
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(key, raw)) + "\n"
	zw := zip.NewWriter(w)
	for _, f := range append(slices.Clone(files), File{Name: ManifestName, Data: raw}, File{Name: SignatureName, Data: []byte(sig)}) {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: m.CreatedAt})
		if err != nil {
			return fmt.Errorf("pack: %w", err)
		}
		if _, err := fw.Write(f.Data); err != nil {
			return fmt.Errorf("pack: %w", err)
		}
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	return nil
}

// ErrAltered is returned, wrapped, when a pack does not match its manifest.
var ErrAltered = errors.New("pack: the pack does not match its manifest")

// Verify checks the pack at p, a zip file or a directory: the manifest must
// carry a valid signature by pub, every file in it must be there with its
// size and SHA-256, and no other file may be. It returns the manifest, and
// the problems found, one a line, as an error wrapping ErrAltered.
func Verify(p string, pub ed25519.PublicKey) (Manifest, error) {
	st, err := os.Stat(p)
	if err != nil {
		return Manifest{}, fmt.Errorf("pack: %w", err)
	}
	if st.IsDir() {
		return VerifyFS(os.DirFS(p), pub)
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return Manifest{}, fmt.Errorf("pack: %w", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return Manifest{}, fmt.Errorf("pack: %s is neither a directory nor a zip: %w", p, err)
	}
	return VerifyFS(zr, pub)
}

// VerifyFS checks the pack in fsys (see Verify).
func VerifyFS(fsys fs.FS, pub ed25519.PublicKey) (Manifest, error) {
	var m Manifest
	if len(pub) != ed25519.PublicKeySize {
		return m, errors.New("pack: no public key to check the signature with")
	}
	raw, err := fs.ReadFile(fsys, ManifestName)
	if err != nil {
		return m, fmt.Errorf("%w: no readable %s: %w", ErrAltered, ManifestName, err)
	}
	sigText, err := fs.ReadFile(fsys, SignatureName)
	if err != nil {
		return m, fmt.Errorf("%w: no %s: the pack is not signed", ErrAltered, SignatureName)
	}
	sig, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(sigText)))
	if err != nil || !ed25519.Verify(pub, raw, sig) {
		return m, fmt.Errorf("%w: %s is not the signature of %s by key %s: the manifest was altered, or signed by another key",
			ErrAltered, SignatureName, ManifestName, KeyID(pub)[:16])
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %w", ErrAltered, ManifestName, err)
	}
	if m.Format != Format {
		return m, fmt.Errorf("%w: manifest format %q, want %q", ErrAltered, m.Format, Format)
	}
	var problems []string
	listed := map[string]bool{ManifestName: true, SignatureName: true}
	for _, e := range m.Files {
		listed[path.Clean(e.Name)] = true
		data, err := fs.ReadFile(fsys, e.Name)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("%s: missing", e.Name))
		case int64(len(data)) != e.Bytes:
			problems = append(problems, fmt.Sprintf("%s: %d bytes, manifest says %d", e.Name, len(data), e.Bytes))
		case Sum(data) != e.SHA256:
			problems = append(problems, fmt.Sprintf("%s: SHA-256 %s, manifest says %s", e.Name, Sum(data), e.SHA256))
		}
	}
	err = fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !listed[name] {
			problems = append(problems, fmt.Sprintf("%s: not in the manifest", name))
		}
		return nil
	})
	if err != nil {
		return m, fmt.Errorf("pack: %w", err)
	}
	if len(problems) > 0 {
		return m, fmt.Errorf("%w:\n  %s", ErrAltered, joinLines(problems))
	}
	return m, nil
}

func joinLines(ss []string) string {
	var b bytes.Buffer
	for i, s := range ss {
		if i > 0 {
			b.WriteString("\n  ")
		}
		b.WriteString(s)
	}
	return b.String()
}

// PublicKeyPEM encodes pub as a PEM "PUBLIC KEY" block (PKIX), as the hub
// serves it.
func PublicKeyPEM(pub ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePublicKey reads a PEM "PUBLIC KEY" block holding an Ed25519 key.
func ParsePublicKey(raw []byte) (ed25519.PublicKey, error) {
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "PUBLIC KEY" {
		return nil, errors.New("pack: not a PEM public key")
	}
	k, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pack: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, errors.New("pack: not an Ed25519 key")
	}
	return pub, nil
}

// LoadOrCreateKey reads the hub's signing key, a PEM "PRIVATE KEY" (PKCS
// #8) file at path, or makes one there (mode 0600) if there is none.
func LoadOrCreateKey(path string) (ed25519.PrivateKey, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		_, key, err := ed25519.GenerateKey(nil)
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			return nil, fmt.Errorf("pack: %w", err)
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, fmt.Errorf("pack: signing key: %w", err)
		}
		return key, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pack: signing key: %w", err)
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("pack: signing key %s: not a PEM private key", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("pack: signing key %s: %w", path, err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("pack: signing key %s: not an Ed25519 key", path)
	}
	return key, nil
}
