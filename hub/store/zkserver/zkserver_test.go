package zkserver_test

import (
	"testing"

	"github.com/pathwayhub/pathwayhub/hub/store/zkserver"
)

// TestStartAnswersAndKillStops: the server answers on its port, and is gone
// after Kill.
func TestStartAnswersAndKillStops(t *testing.T) {
	t.Parallel()
	s, err := zkserver.Start(t.Context(), zkserver.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s.Port() == 0 {
		t.Fatal("no port")
	}
	s.Kill()
	if _, err := zkserver.Start(t.Context(), zkserver.Options{DataDir: t.TempDir(), ClassPath: "/nonexistent.jar"}); err == nil {
		t.Error("started without the jar")
	}
}
