package chdb

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// LocalSuffix names a cluster's local table after the distributed table
// the hub reads and writes: incidents is a Distributed table over
// incidents_local, a Replicated*MergeTree on every replica.
const LocalSuffix = "_local"

// ClusterSettings are the settings of a connection to a cluster's server:
// insert_distributed_sync, so that an insert through a Distributed table
// returns once the shard's replica has the rows, not when the server it
// went through has queued them, and an acknowledged batch survives the
// loss of that server. The cluster's servers must also give the hub's user
// distributed_product_mode = global in its profile (a subquery over a
// Distributed table inside IN or JOIN then runs once and goes to every
// shard, so the answer is the whole cluster's), which 18.16's protocol
// cannot send with a query: chserver.Cluster writes it.
func ClusterSettings() map[string]any {
	return map[string]any{"insert_distributed_sync": 1}
}

var (
	createTableRE = regexp.MustCompile(`^CREATE TABLE IF NOT EXISTS (\w+)\.(\w+) \(`)
	engineRE      = regexp.MustCompile(`^(\w*MergeTree)(?:\(([^)]*)\))?`)
	alterAddRE    = regexp.MustCompile(`^ALTER TABLE (\w+)\.(\w+) (ADD COLUMN (\w+) .*)$`)
)

// OnCluster rewrites one migration statement (its database already in
// place) for cluster c, where every table is a replicated local table on
// every replica with a Distributed table over it under the table's own
// name:
//   - CREATE TABLE IF NOT EXISTS db.t (…) ENGINE = XMergeTree(args) … becomes
//     db.t_local ON CLUSTER c with ReplicatedXMergeTree (its path in the
//     coordination service by shard, database and table; the {replica}
//     macro) and db.t ON CLUSTER c AS db.t_local ENGINE = Distributed,
//     sharded by force (so every revision of an incident lands on one
//     shard, which FINAL needs) or at random when the table has no force;
//   - ALTER TABLE db.t ADD COLUMN … becomes the same change ON CLUSTER c
//     to db.t_local; db.t, which holds no data (the hub inserts through it
//     synchronously), is dropped and created again over it ON CLUSTER,
//     since ClickHouse 18.16 runs no ALTER ON CLUSTER on a table that is
//     not replicated. hasForce tells whether db.t_local has a force_id
//     column (its sharding key).
//
// Any other statement is an error: a migration the rewrite does not know
// must not run on one server of a cluster only.
func OnCluster(stmt, c string, hasForce func(db, table string) (bool, error)) ([]string, error) {
	if !sqltext.ValidIdent(c) {
		return nil, fmt.Errorf("chdb: cluster name %q is not an identifier", c)
	}
	stmt = strings.TrimSpace(stmt)
	if m := createTableRE.FindStringSubmatch(stmt); m != nil {
		db, t := m[1], m[2]
		i := strings.LastIndex(stmt, ") ENGINE = ")
		if i < 0 {
			return nil, fmt.Errorf("chdb: on cluster: %s.%s: no ENGINE", db, t)
		}
		cols := stmt[len(m[0]):i]
		engine := stmt[i+len(") ENGINE = "):]
		e := engineRE.FindStringSubmatch(engine)
		if e == nil {
			return nil, fmt.Errorf("chdb: on cluster: %s.%s: engine %q is not a MergeTree", db, t, firstLine(engine))
		}
		args := fmt.Sprintf("'/clickhouse/tables/{shard}/%s/%s', '{replica}'", db, t)
		if e[2] != "" {
			args += ", " + e[2]
		}
		local := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s.%s%s ON CLUSTER %s (%s) ENGINE = Replicated%s(%s)%s",
			db, t, LocalSuffix, c, cols, e[1], args, engine[len(e[0]):])
		return []string{local, distributed(db, t, c, forceColumnRE.MatchString(cols))}, nil
	}
	if m := alterAddRE.FindStringSubmatch(stmt); m != nil {
		db, t, change := m[1], m[2], m[3]
		force, err := hasForce(db, t+LocalSuffix)
		if err != nil {
			return nil, fmt.Errorf("chdb: on cluster: %w", err)
		}
		return []string{
			fmt.Sprintf("ALTER TABLE %s.%s%s ON CLUSTER %s %s", db, t, LocalSuffix, c, change),
			fmt.Sprintf("DROP TABLE IF EXISTS %s.%s ON CLUSTER %s", db, t, c),
			distributed(db, t, c, force),
		}, nil
	}
	return nil, fmt.Errorf("chdb: on cluster: no cluster form for %q", firstLine(stmt))
}

var forceColumnRE = regexp.MustCompile(`(?m)^\s*force_id String`)

// distributed is the Distributed table db.t over db.t_local on cluster c,
// sharded by force when the table has one, so that every revision of an
// incident is on one shard (FINAL collapses them there), else at random.
func distributed(db, t, c string, byForce bool) string {
	key := "rand()"
	if byForce {
		key = "cityHash64(force_id)"
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %[1]s.%[2]s ON CLUSTER %[3]s AS %[1]s.%[2]s%[4]s ENGINE = Distributed(%[3]s, %[1]s, %[2]s%[4]s, %[5]s)",
		db, t, c, LocalSuffix, key)
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
