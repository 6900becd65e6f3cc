package chdb_test

import (
	"strings"
	"testing"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/schemas/migrations"
)

// TestEveryMigrationHasAClusterForm: each statement of every migration
// rewrites for a cluster, into replicated local tables and Distributed
// tables over them; a statement without a cluster form is refused, not run
// on one server.
func TestEveryMigrationHasAClusterForm(t *testing.T) {
	migs, err := chdb.LoadMigrations(migrations.FS)
	if err != nil {
		t.Fatal(err)
	}
	hasForce := func(_, table string) (bool, error) { return table != "submissions_local", nil }
	for _, m := range migs {
		for _, stmt := range m.Statements {
			qs, err := chdb.OnCluster(strings.ReplaceAll(stmt, chdb.DatabasePlaceholder, "pathway"), "pathway", hasForce)
			if err != nil {
				t.Errorf("migration %d: %v", m.Version, err)
				continue
			}
			for _, q := range qs {
				if !strings.Contains(q+" ", " ON CLUSTER pathway ") {
					t.Errorf("migration %d: %q is not ON CLUSTER", m.Version, q)
				}
			}
			if strings.HasPrefix(stmt, "CREATE TABLE") && (!strings.Contains(qs[0], "ENGINE = Replicated") || !strings.Contains(qs[1], "ENGINE = Distributed(pathway, pathway, ")) {
				t.Errorf("migration %d: %q", m.Version, qs)
			}
		}
	}
	for _, bad := range []string{"DROP TABLE pathway.incidents", "CREATE TABLE IF NOT EXISTS pathway.x (a UInt8) ENGINE = Log", "ALTER TABLE pathway.incidents DELETE WHERE 1"} {
		if qs, err := chdb.OnCluster(bad, "pathway", hasForce); err == nil {
			t.Errorf("OnCluster(%q) = %q, want an error", bad, qs)
		}
	}
	if _, err := chdb.OnCluster(migs[0].Statements[0], "bad name", hasForce); err == nil {
		t.Error("a cluster name that is not an identifier was accepted")
	}
}
