package main

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/ingest/pack"
)

// TestEvidenceVerify makes a pack, verifies it, alters one number and
// checks that verify then fails with exit code 1, naming the file.
func TestEvidenceVerify(t *testing.T) {
	t.Parallel()
	files := []pack.File{
		{Name: "index.html", Data: []byte("<!DOCTYPE html><title>x</title>")},
		{Name: "measures.csv", Data: []byte("measure_id,force,month,value\ns136_detentions,metropolitan,2026-10,45\n")},
	}
	m := pack.Manifest{Recipient: "ncl_icb", From: "2026-09", To: "2026-10", CreatedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC),
		Provenance: pack.Provenance{ContentHash: "abc", Agreement: "london-rcrp"}}
	dir := t.TempDir()
	pub, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pack.PublicKeyPEM(pub)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "hub.pem")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pack.Write(&buf, m, files, key); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.zip")
	if err := os.WriteFile(good, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := run(t, "evidence", "verify", good); err == nil || !strings.Contains(err.Error(), "--key") {
		t.Errorf("verify without a key: %v, want it to ask for one", err)
	}
	out, err := run(t, "evidence", "verify", "--key", keyFile, good)
	if err != nil || !strings.Contains(out, "files match") || !strings.Contains(out, "london-rcrp") {
		t.Fatalf("verify of an unaltered pack: %v\n%s", err, out)
	}

	bad := filepath.Join(dir, "bad.zip")
	rewriteZip(t, buf.Bytes(), bad, "measures.csv", []byte("measure_id,force,month,value\ns136_detentions,metropolitan,2026-10,5\n"))
	out, err = run(t, "evidence", "verify", "--key", keyFile, bad)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "measures.csv") {
		t.Fatalf("verify of an altered pack: err %v (exit %d)\n%s", err, exitCode(err), out)
	}
}

// rewriteZip copies the zip src to dst with the file name's content
// replaced by data, and every other file (the manifest too) unchanged.
func rewriteZip(t *testing.T, src []byte, dst, name string, data []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		content, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == name {
			content = data
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = w.Write(content)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, out.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}
