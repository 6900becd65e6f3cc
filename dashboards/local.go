package dashboards

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/policy"
)

// Local says where a hub running on this machine keeps what the
// dashboards need.
type Local struct {
	// Dir is where to write: Dir/grafana and Dir/prometheus.
	Dir string
	// Agreements is the agreements directory the hub loads.
	Agreements string
	// Prefix starts the share database and user names.
	Prefix string
	// PasswordsFile is the hub's recipient passwords file.
	PasswordsFile string
	// ClickHouseAddr is the ClickHouse native address, host:port.
	ClickHouseAddr string
	// HubURL is the hub's base URL, for Prometheus to scrape.
	HubURL string
}

// WriteLocal generates the dashboards and provisioning for a hub on this
// machine (datasources pointing at its ClickHouse, Prometheus at the hub)
// and writes them under l.Dir, returning the directory written.
func WriteLocal(l Local) (string, error) {
	agreements, err := policy.LoadAgreements(l.Agreements, measures.IDs())
	if err != nil {
		return "", fmt.Errorf("dashboards: %w", err)
	}
	raw, err := os.ReadFile(l.PasswordsFile)
	if err != nil {
		return "", fmt.Errorf("dashboards: %w", err)
	}
	passwords := map[string]string{}
	if err := yaml.Unmarshal(raw, &passwords); err != nil {
		return "", fmt.Errorf("dashboards: passwords %s: %w", l.PasswordsFile, err)
	}
	host, port, err := net.SplitHostPort(l.ClickHouseAddr)
	if err != nil {
		return "", fmt.Errorf("dashboards: clickhouse address: %w", err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", fmt.Errorf("dashboards: clickhouse port: %w", err)
	}
	hub, err := url.Parse(l.HubURL)
	if err != nil {
		return "", fmt.Errorf("dashboards: hub url: %w", err)
	}
	abs, err := filepath.Abs(l.Dir)
	if err != nil {
		return "", fmt.Errorf("dashboards: %w", err)
	}
	files, err := Generate(Options{
		Agreements: agreements, Prefix: l.Prefix, Passwords: passwords,
		ClickHouseHost: host, ClickHousePort: p, PrometheusURL: "http://localhost:9090", HubTarget: hub.Host,
		DashboardsPath: filepath.Join(abs, "grafana", "dashboards"),
	})
	if err != nil {
		return "", err
	}
	if _, err := Write(abs, files); err != nil {
		return "", err
	}
	return abs, nil
}
