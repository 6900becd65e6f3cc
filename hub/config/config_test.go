package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/pathwayhub/pathwayhub/hub/config"
)

func TestGoodFile(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "good.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "0.0.0.0:9443" || cfg.ClickHouse.Addr != "clickhouse:9000" || cfg.ShutdownTimeout != 30*time.Second || cfg.LogFormat != "json" {
		t.Fatalf("unexpected config: %+v", cfg)
	}
	if cfg.ClockSkew != 5*time.Minute || cfg.DataDir != "var" {
		t.Fatalf("defaults not kept: %+v", cfg)
	}
	if cfg.Agreements != "/etc/pathwayhub/agreements" || cfg.Shares.Interval != 10*time.Minute || cfg.Shares.Months != 24 ||
		len(cfg.Shares.SPCRebase) != 1 || !cfg.Shares.SPCRebase[0].Equal(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("shares not read: %+v", cfg)
	}
	// A partial thresholds section overrides only what it names.
	if cfg.Thresholds.HandoverTarget != 90*time.Minute || cfg.Thresholds.HandoverWarning != time.Hour || cfg.Thresholds.DetentionClock != 24*time.Hour {
		t.Fatalf("thresholds not merged over the defaults: %+v", cfg.Thresholds)
	}
}

func TestBadFiles(t *testing.T) {
	t.Parallel()
	want := map[string][]string{
		"unknown_key.bad.yaml": {"clickhouse_addr", "not found"},
		"tls_half.bad.yaml":    {"tls_cert and tls_key"},
		"bad_values.bad.yaml":  {"listen:", "clickhouse.database:", "log_level:", "shares.workers:"},
		"thresholds.bad.yaml":  {"thresholds.handover_warning:", "thresholds.ambulance_wait:"},
		// A cluster's hubs take turns to publish through ZooKeeper.
		"cluster_without_zookeeper.bad.yaml": {"clickhouse.cluster:", "zookeeper"},
		// ... logged in: an open ZooKeeper would let anyone add a
		// ClickHouse user to every server.
		"cluster_without_identity.bad.yaml": {"clickhouse.zookeeper_identity:", "user:password"},
		// A hub on the network without TLS sends tokens and health data in
		// the clear: refused unless insecure_plaintext says a proxy
		// terminates TLS.
		"plaintext_network.bad.yaml": {"listen:", "no TLS", "insecure_plaintext"},
	}
	for name, parts := range want {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = config.Parse(raw)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		for _, p := range parts {
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: error %q does not mention %q", name, err, p)
			}
		}
	}
}

func TestPrecedence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "hub.yaml")
	if err := os.WriteFile(file, []byte("listen: 127.0.0.1:1111\nlog_level: warn\ndata_dir: /srv/a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	l := config.RegisterFlags(fs)
	if err := fs.Parse([]string{"--config", file, "--listen", "127.0.0.1:3333"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATHWAYHUB_LISTEN": "127.0.0.1:2222", "PATHWAYHUB_LOG_LEVEL": "debug"}
	cfg, err := l.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:3333" {
		t.Errorf("flag should win: listen = %s", cfg.Listen)
	}
	if cfg.LogLevel != "debug" {
		t.Errorf("env should beat file: log_level = %s", cfg.LogLevel)
	}
	if cfg.DataDir != "/srv/a" {
		t.Errorf("file should beat default: data_dir = %s", cfg.DataDir)
	}
	if cfg.ShutdownTimeout != 15*time.Second {
		t.Errorf("default lost: shutdown_timeout = %s", cfg.ShutdownTimeout)
	}
}

func TestPlaintextOnTheNetworkNeedsItsFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		yaml string
		ok   bool
	}{
		{"listen: 0.0.0.0:8080\n", false},
		{"listen: '[::]:8080'\n", false},
		{"listen: 192.0.2.1:8080\n", false},
		{"listen: 0.0.0.0:8080\ninsecure_plaintext: true\n", true},
		{"listen: 127.0.0.1:8080\n", true},
		{"listen: localhost:8080\n", true},
		{"listen: '[::1]:8080'\n", true},
	} {
		if _, err := config.Parse([]byte(tc.yaml)); (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok %v", tc.yaml, err, tc.ok)
		}
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	l := config.RegisterFlags(fs)
	if err := fs.Parse([]string{"--listen", "0.0.0.0:8080", "--insecure-plaintext"}); err != nil {
		t.Fatal(err)
	}
	if cfg, err := l.Load(func(string) string { return "" }); err != nil || !cfg.InsecurePlaintext {
		t.Errorf("--insecure-plaintext: %v, %+v", err, cfg.InsecurePlaintext)
	}
}
