// Package pack writes and verifies evidence packs: a zip of files (the
// evidence page as one self-contained HTML file, CSV files of the numbers
// shown, a PDF when one could be printed) and manifest.json, which records
// the provenance and the SHA-256 and size of every other file. Verify
// recomputes the sums of a pack, zipped or unpacked into a directory, and
// reports every file that is missing, altered or not in the manifest.
package pack

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

// Manifest describes a pack.
type Manifest struct {
	Format     string     `json:"format"`
	Recipient  string     `json:"recipient"`
	From       string     `json:"from"`
	To         string     `json:"to"`
	CreatedAt  time.Time  `json:"created_at"`
	DecisionID string     `json:"export_decision_id"`
	Provenance Provenance `json:"provenance"`
	Files      []Entry    `json:"files"`
}

// Sum returns the hex SHA-256 of data.
func Sum(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

// Write writes files and their manifest (m with Files filled in) as a zip.
func Write(w io.Writer, m Manifest, files []File) error {
	m.Format = Format
	m.Files = nil
	for _, f := range files {
		if f.Name == ManifestName || !fs.ValidPath(f.Name) {
			return fmt.Errorf("pack: bad file name %q", f.Name)
		}
		m.Files = append(m.Files, Entry{Name: f.Name, SHA256: Sum(f.Data), Bytes: int64(len(f.Data))})
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	zw := zip.NewWriter(w)
	for _, f := range append(slices.Clone(files), File{Name: ManifestName, Data: append(raw, '\n')}) {
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

// Verify checks the pack at p, a zip file or a directory: every file in
// the manifest must be there with its size and SHA-256, and no other file
// may be. It returns the manifest, and the problems found, one a line, as
// an error wrapping ErrAltered.
func Verify(p string) (Manifest, error) {
	st, err := os.Stat(p)
	if err != nil {
		return Manifest{}, fmt.Errorf("pack: %w", err)
	}
	if st.IsDir() {
		return VerifyFS(os.DirFS(p))
	}
	raw, err := os.ReadFile(p)
	if err != nil {
		return Manifest{}, fmt.Errorf("pack: %w", err)
	}
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return Manifest{}, fmt.Errorf("pack: %s is neither a directory nor a zip: %w", p, err)
	}
	return VerifyFS(zr)
}

// VerifyFS checks the pack in fsys (see Verify).
func VerifyFS(fsys fs.FS) (Manifest, error) {
	var m Manifest
	raw, err := fs.ReadFile(fsys, ManifestName)
	if err != nil {
		return m, fmt.Errorf("%w: no readable %s: %w", ErrAltered, ManifestName, err)
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return m, fmt.Errorf("%w: %s: %w", ErrAltered, ManifestName, err)
	}
	if m.Format != Format {
		return m, fmt.Errorf("%w: manifest format %q, want %q", ErrAltered, m.Format, Format)
	}
	var problems []string
	listed := map[string]bool{ManifestName: true}
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
