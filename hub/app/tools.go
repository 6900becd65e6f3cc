package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/pathwayhub/pathwayhub/hub/config"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/store/audit"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
)

// Migrate applies the migrations to the configured ClickHouse and returns how
// many it applied.
func Migrate(ctx context.Context, cfg config.Config, logger *slog.Logger) (int, error) {
	if cfg.ClickHouse.Addr == "" {
		return 0, errors.New("app: migrate needs --clickhouse (the managed server is migrated when the hub starts)")
	}
	admin, err := chdb.Open(ctx, chdb.Options{Addr: cfg.ClickHouse.Addr, Username: cfg.ClickHouse.Username, Password: cfg.ClickHouse.Password,
		Failover: cfg.ClickHouse.FailoverAddrs(), Cluster: cfg.ClickHouse.Cluster != ""})
	if err != nil {
		return 0, fmt.Errorf("app: %w", err)
	}
	defer admin.Close()
	applied, err := migrate(ctx, cfg, admin, logger)
	return len(applied), err
}

// VerifyAudit checks the decision audit's hash chain in the raw database
// (audit.Verify): at cfg's --clickhouse, or the managed server a running hub
// named in its data directory. The chain must reach the head the hub keeps
// in the data directory (AuditHeadFile), when that file is there.
func VerifyAudit(ctx context.Context, cfg config.Config) (rows int, problems []audit.Problem, err error) {
	addr := cfg.ClickHouse.Addr
	if addr == "" {
		raw, err := os.ReadFile(filepath.Join(cfg.DataDir, ClickHouseAddrFile))
		if err != nil {
			return 0, nil, errors.New("app: audit verify needs --clickhouse, or a running hub's managed server in --data-dir")
		}
		addr = strings.TrimSpace(string(raw))
		if cfg.ClickHouse.Password == "" {
			pw, err := os.ReadFile(filepath.Join(cfg.DataDir, "clickhouse", chserver.DefaultPasswordFile))
			if err != nil {
				return 0, nil, fmt.Errorf("app: the managed ClickHouse's default password: %w", err)
			}
			cfg.ClickHouse.Username, cfg.ClickHouse.Password = "default", strings.TrimSpace(string(pw))
		}
	}
	conn, err := chdb.Open(ctx, chdb.Options{Addr: addr, Username: cfg.ClickHouse.Username, Password: cfg.ClickHouse.Password})
	if err != nil {
		return 0, nil, fmt.Errorf("app: %w", err)
	}
	defer conn.Close()
	head, err := audit.ReadHead(filepath.Join(cfg.DataDir, AuditHeadFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, nil, fmt.Errorf("app: %w", err)
	}
	return audit.Verify(ctx, conn, cfg.ClickHouse.Database, head)
}

// PublishFull builds the hub as New does, from opts (listening on loopback
// only), rebuilds every share once whatever changed, stops, and returns
// what it published: `pathwayhub publish --full`. Run it while no hub
// publishes into the same database: with a managed ClickHouse, a running
// hub holds its data directory and this fails to start; the decisions it
// audits extend the same hash chain a hub does, one writer at a time. (A hub
// also rebuilds every share when it starts.)
func PublishFull(ctx context.Context, opts Options) (share.Report, error) {
	opts.Config.Listen, opts.Config.MetricsListen = "127.0.0.1:0", "127.0.0.1:0"
	h, err := New(ctx, opts)
	if err != nil {
		return share.Report{}, err
	}
	defer h.close()
	return h.publishAll(true)(ctx)
}
