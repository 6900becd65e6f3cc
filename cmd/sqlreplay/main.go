package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/pathwayhub/pathwayhub/hub/store/chdb/replay"
	"github.com/pathwayhub/pathwayhub/hub/store/chdb/sqlrecord"
	"github.com/pathwayhub/pathwayhub/hub/store/chserver"
)

func main() {
	dir := flag.String("dir", "var/sqlrecord", "directory of statement logs written by the tests (PATHWAYHUB_SQL_RECORD)")
	show := flag.Int("show", 20, "findings to print in full")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "Usage: sqlreplay [-dir DIR]\n\n"+
			"Replays every statement the tests recorded, in order and with its data, on a fresh\n"+
			"ClickHouse 18.16 server (clickhouse-server on PATH) and on chDB (CHDB_LIB_PATH), and\n"+
			"exits 1 if a statement fails on one engine only or returns different rows.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if err := run(*dir, *show); err != nil {
		fmt.Fprintln(os.Stderr, "sqlreplay:", err)
		os.Exit(1)
	}
}

func run(dir string, show int) error {
	start := time.Now()
	entries, err := sqlrecord.Load(dir)
	if err != nil {
		return err
	}
	if len(entries) == 0 {
		return fmt.Errorf("no statement logs in %s: run the tests with PATHWAYHUB_SQL_RECORD=%s", dir, dir)
	}
	tmp, err := os.MkdirTemp("", "sqlreplay-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	ctx := context.Background()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv, err := chserver.Start(ctx, chserver.Options{NoPasswords: true, DataDir: tmp + "/ch18", Logger: logger})
	if err != nil {
		return err
	}
	defer func() { _ = srv.Stop(ctx) }()
	current, err := replay.OpenEmbedded(tmp + "/chdb")
	if err != nil {
		return err
	}
	defer current.Close()
	old := replay.NewHTTPServer("ClickHouse 18.16", srv.HTTPPort())
	if v, err := old.Run("", "SELECT version()"); err == nil {
		if vs := strings.Split(strings.TrimSpace(v), "\n"); len(vs) == 3 {
			old = replay.NewHTTPServer("ClickHouse "+vs[2], srv.HTTPPort())
		}
	}

	last := time.Now()
	rep, err := replay.Run(entries, old, current, func(done, total int) {
		if time.Since(last) > 10*time.Second || done == total {
			last = time.Now()
			fmt.Printf("sqlreplay: %d/%d statements (%.0f%%)\n", done, total, 100*float64(done)/float64(total))
		}
	})
	if err != nil {
		return err
	}
	fmt.Printf("sqlreplay: %s against %s, in %s: ", old.Name(), current.Name(), time.Since(start).Round(time.Second))
	rep.Write(os.Stdout, show)
	if len(rep.Findings) > 0 {
		return fmt.Errorf("%d statements fail on one engine only or return different rows", len(rep.Findings))
	}
	return nil
}
