package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/api/auth"
)

func credentialsFile(t *testing.T, path string, tokens map[string]string) {
	t.Helper()
	body := "credentials:\n"
	for token, org := range tokens {
		sum := sha256.Sum256([]byte(token))
		body += "  - org: " + org + "\n    token_sha256: " + hex.EncodeToString(sum[:]) + "\n"
	}
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestWatchSeesAChangeMadeBeforeItStarted: the hub loads the credentials
// when it is built and watches the file once it runs; a token revoked (or
// added) in between raised no event the watcher could see. Watch compares
// the file with the credentials in force when it starts.
func TestWatchSeesAChangeMadeBeforeItStarted(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials.yaml")
	credentialsFile(t, path, map[string]string{"token-old": "force/btp"})
	c, err := auth.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	// Revoke the old token and add a new one before the watch starts.
	credentialsFile(t, path, map[string]string{"token-new": "force/metropolitan"})
	reloads := make(chan error, 4)
	go func() { _ = c.Watch(t.Context(), path, func(err error) { reloads <- err }) }()
	select {
	case err := <-reloads:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the change made before the watch started was never loaded")
	}
	if _, ok := c.Lookup("token-old"); ok {
		t.Error("a token revoked before the watch started still works")
	}
	if org, ok := c.Lookup("token-new"); !ok || org.ID != "metropolitan" {
		t.Errorf("the token added before the watch started: %v %v", org, ok)
	}
	// And a later change is seen as before.
	credentialsFile(t, path, map[string]string{"token-later": "force/city-of-london"})
	select {
	case err := <-reloads:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a later change was not loaded")
	}
	if _, ok := c.Lookup("token-later"); !ok {
		t.Error("the later token does not work")
	}
}

// TestWatchDoesNotReloadAnUnchangedFile: starting the watch on the file
// the credentials came from reloads nothing (the reload metric counts
// changes, not starts).
func TestWatchDoesNotReloadAnUnchangedFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "credentials.yaml")
	credentialsFile(t, path, map[string]string{"token-a": "force/btp"})
	c, err := auth.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	reloads := make(chan error, 4)
	go func() { _ = c.Watch(t.Context(), path, func(err error) { reloads <- err }) }()
	select {
	case err := <-reloads:
		t.Fatalf("reloaded an unchanged file: %v", err)
	case <-time.After(time.Second):
	}
}
