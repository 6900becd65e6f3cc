package dashboards_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// repoRoot is the repository root, relative to this package.
const repoRoot = ".."

// composeFile is the part of compose.yaml the test reads.
type composeFile struct {
	Services map[string]struct {
		Image       string `yaml:"image"`
		Build       *struct{ Context, Dockerfile string }
		Entrypoint  []string          `yaml:"entrypoint"`
		Command     []string          `yaml:"command"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		Ports       []string          `yaml:"ports"`
		DependsOn   map[string]struct {
			Condition string `yaml:"condition"`
		} `yaml:"depends_on"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// TestComposeFile checks compose.yaml: with Docker Compose installed, that
// `docker compose config` accepts it; always, its structure: the services
// the stack needs, pinned images, every bind-mounted path and build file
// present in the repository, every named volume declared, the volumes the
// parts must share actually shared, and the paths the generated files are
// read from matching where the generator writes them.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(repoRoot, "compose.yaml")
	if out, err := exec.CommandContext(t.Context(), "docker", "compose", "version").CombinedOutput(); err == nil {
		if out, err := exec.CommandContext(t.Context(), "docker", "compose", "-f", path, "config", "--quiet").CombinedOutput(); err != nil {
			t.Errorf("docker compose config: %v\n%s", err, out)
		}
	} else {
		t.Logf("docker compose not available (%s); checking the structure only", strings.TrimSpace(string(out)))
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c composeFile
	if err := yaml.Unmarshal(raw, &c); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	for _, name := range []string{"clickhouse", "init", "hub", "dashboards", "grafana", "prometheus", "simulator"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("no %s service", name)
		}
	}
	mounts := map[string]map[string]string{} // service → target → source
	for name, s := range c.Services {
		if s.Image == "" || strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":") {
			t.Errorf("%s: image %q is not pinned", name, s.Image)
		}
		if s.Build != nil {
			for _, p := range []string{s.Build.Context, filepath.Join(s.Build.Context, s.Build.Dockerfile)} {
				if _, err := os.Stat(filepath.Join(repoRoot, p)); err != nil {
					t.Errorf("%s: build file %s: %v", name, p, err)
				}
			}
		}
		mounts[name] = map[string]string{}
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			if len(parts) < 2 {
				t.Errorf("%s: volume %q has no target", name, v)
				continue
			}
			src, dst := parts[0], parts[1]
			mounts[name][dst] = src
			if strings.HasPrefix(src, ".") || strings.HasPrefix(src, "/") {
				if _, err := os.Stat(filepath.Join(repoRoot, src)); err != nil {
					t.Errorf("%s: mounts %s, which does not exist: %v", name, src, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s: named volume %s is not declared", name, src)
			}
		}
		for _, arg := range append(slices.Clone(s.Entrypoint), s.Command...) {
			if strings.HasPrefix(arg, "/deploy/") {
				if _, err := os.Stat(filepath.Join(repoRoot, "deploy", "compose", strings.TrimPrefix(arg, "/deploy/"))); err != nil {
					t.Errorf("%s: runs %s: %v", name, arg, err)
				}
			}
		}
		for dep := range s.DependsOn {
			if _, ok := c.Services[dep]; !ok {
				t.Errorf("%s depends on unknown service %s", name, dep)
			}
		}
	}
	shared := func(a, aPath, b, bPath string) {
		if mounts[a][aPath] == "" || mounts[a][aPath] != mounts[b][bPath] {
			t.Errorf("%s:%s and %s:%s should be the same volume (%q, %q)", a, aPath, b, bPath, mounts[a][aPath], mounts[b][bPath])
		}
	}
	shared("hub", "/users.d", "clickhouse", "/etc/clickhouse-server/users.d")
	shared("dashboards", "/out", "grafana", "/etc/pathwayhub")
	shared("dashboards", "/out", "prometheus", "/etc/pathwayhub")
	shared("dashboards", "/state", "hub", "/state")
	hub := strings.Join(c.Services["hub"].Command, " ")
	for _, want := range []string{"--clickhouse=clickhouse:9000", "--share-users-file=/users.d/", "--share-passwords-file=/state/", "--credentials=/secrets/"} {
		if !strings.Contains(hub, want) {
			t.Errorf("hub command lacks %s: %s", want, hub)
		}
	}
	// Safe defaults on a network: every published port on loopback only,
	// and Grafana (holding every recipient's datasource password) with a
	// generated admin password.
	for name, s := range c.Services {
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q beyond this machine", name, p)
			}
		}
	}
	if got := c.Services["grafana"].Environment["GF_SECURITY_ADMIN_PASSWORD__FILE"]; got == "" || mounts["grafana"]["/secrets"] != mounts["init"]["/secrets"] {
		t.Errorf("grafana's admin password is not the generated one (%q)", got)
	}
	initScript, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "compose", "init.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(initScript), strings.TrimPrefix(c.Services["grafana"].Environment["GF_SECURITY_ADMIN_PASSWORD__FILE"], "/secrets/")) {
		t.Error("init.sh does not write grafana's admin password file")
	}
	if !strings.Contains(c.Services["grafana"].Environment["GF_INSTALL_PLUGINS"], "grafana-clickhouse-datasource") {
		t.Error("grafana does not install the ClickHouse plugin")
	}
	// The generator writes grafana/... and prometheus/... under /out, which
	// Grafana and Prometheus see under /etc/pathwayhub.
	if got := c.Services["grafana"].Environment["GF_PATHS_PROVISIONING"]; got != "/etc/pathwayhub/grafana/provisioning" {
		t.Errorf("grafana provisioning path %q", got)
	}
	if !slices.Contains(c.Services["prometheus"].Command, "--config.file=/etc/pathwayhub/prometheus/prometheus.yml") {
		t.Errorf("prometheus config path: %v", c.Services["prometheus"].Command)
	}
	script, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "compose", "dashboards.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--out /out", "--dashboards-path /etc/pathwayhub/grafana/dashboards", "--passwords /state/share-passwords.yaml"} {
		if !strings.Contains(string(script), want) {
			t.Errorf("dashboards.sh lacks %s", want)
		}
	}
}
