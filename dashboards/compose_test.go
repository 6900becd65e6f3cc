package dashboards_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/hub/store/coord"
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
		Networks networks `yaml:"networks"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// networks is a service's networks with their aliases.
type networks map[string]struct {
	Aliases []string `yaml:"aliases"`
}

// TestComposeFile checks compose.yaml: with Docker Compose installed, that
// `docker compose config` accepts it; always, its structure: the services
// the stack needs, pinned images, every bind-mounted path and build file
// present in the repository, every named volume declared, the volumes the
// parts must share actually shared, and the paths the generated files are
// read from matching where the generator writes them.
func TestComposeFile(t *testing.T) {
	t.Parallel()
	c, mounts := checkCompose(t, "compose.yaml", "clickhouse", "init", "hub", "dashboards", "grafana", "prometheus", "simulator")
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
	// Grafana (holding every recipient's datasource password) with a
	// generated admin password.
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

// checkCompose reads a compose file of the repository and checks what every
// one must hold: (with Docker Compose installed) that `docker compose
// config` accepts it, the services named, pinned images, every bind-mounted
// path, build file and deploy script present, every named volume declared,
// every dependency a service, and every published port on loopback only.
// It returns the file and, by service, each mount's source by target.
func checkCompose(t *testing.T, file string, services ...string) (composeFile, map[string]map[string]string) {
	t.Helper()
	path := filepath.Join(repoRoot, file)
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
		t.Fatalf("%s: %v", file, err)
	}
	for _, name := range services {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("%s: no %s service", file, name)
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
		// Safe defaults on a network: every published port on loopback.
		for _, p := range s.Ports {
			if !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q beyond this machine", name, p)
			}
		}
	}
	return c, mounts
}

// TestComposeClusterFile checks compose.cluster.yaml, the stack on a
// ClickHouse cluster, as TestComposeFile checks compose.yaml, and what the
// cluster needs: both servers configured as replicas of the cluster the
// hubs name, on the keeper, logged in with the identity the hubs use; the
// recipients' users reaching both servers (each takes them from the
// keeper, in the users.xml both mount, under the node the hubs write) and
// the hubs' profile on both; each hub on its own server, failing over to
// the other, with the lease on the keeper and the copy of the share
// passwords shared with the dashboards; the load balancer standing in for
// "hub" and "clickhouse" and routing to both of each.
func TestComposeClusterFile(t *testing.T) {
	t.Parallel()
	c, mounts := checkCompose(t, "compose.cluster.yaml",
		"keeper", "clickhouse1", "clickhouse2", "init", "hub1", "hub2", "lb", "dashboards", "grafana", "prometheus", "simulator")
	read := func(p string) string {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(repoRoot, p))
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	cluster := read("deploy/compose/cluster/cluster.xml")
	for _, want := range []string{"<pathway>", "<host>clickhouse1</host>", "<host>clickhouse2</host>", "<host>keeper</host><port>9181</port>", "<internal_replication>true</internal_replication>"} {
		if !strings.Contains(cluster, want) {
			t.Errorf("cluster.xml lacks %s", want)
		}
	}
	if !strings.Contains(read("deploy/compose/cluster/keeper.xml"), "<tcp_port>9181</tcp_port>") {
		t.Error("keeper.xml does not serve on 9181")
	}
	if !strings.Contains(cluster, `<identity from_env="ZOOKEEPER_IDENTITY" />`) {
		t.Error("cluster.xml does not log the servers in to the keeper")
	}
	users := read("deploy/compose/cluster/users.xml")
	node := coord.UsersNode("pathway")
	for _, want := range []string{"<distributed_product_mode>global</distributed_product_mode>",
		`<profiles from_zk="` + node + `/profiles">`, `<quotas from_zk="` + node + `/quotas">`, `<users from_zk="` + node + `/users" />`} {
		if !strings.Contains(users, want) {
			t.Errorf("users.xml lacks %s", want)
		}
	}
	macros := map[string]bool{}
	for i, server := range []string{"clickhouse1", "clickhouse2"} {
		m := mounts[server]
		if m["/etc/clickhouse-server/config.d/cluster.xml"] != "./deploy/compose/cluster/cluster.xml" ||
			m["/etc/clickhouse-server/users.xml"] != "./deploy/compose/cluster/users.xml" {
			t.Errorf("%s does not mount the cluster's configuration: %v", server, m)
		}
		src := m["/etc/clickhouse-server/config.d/macros.xml"]
		macros[read(strings.TrimPrefix(src, "./"))] = true
		if want := fmt.Sprintf("clickhouse%d", i+1); !strings.Contains(read(strings.TrimPrefix(src, "./")), "<interserver_http_host>"+want) {
			t.Errorf("%s's macros name another host", server)
		}
	}
	if len(macros) != 2 {
		t.Error("the two servers share their macros: one replica name for two replicas")
	}
	shared := func(a, aPath, b, bPath string) {
		if mounts[a][aPath] == "" || mounts[a][aPath] != mounts[b][bPath] {
			t.Errorf("%s:%s and %s:%s should be the same volume (%q, %q)", a, aPath, b, bPath, mounts[a][aPath], mounts[b][bPath])
		}
	}
	identity := c.Services["clickhouse1"].Environment["ZOOKEEPER_IDENTITY"]
	if u, pw, _ := strings.Cut(identity, ":"); u == "" || pw == "" {
		t.Errorf("the servers' ZooKeeper identity %q is not user:password", identity)
	}
	for _, s := range []string{"clickhouse2", "hub1", "hub2"} {
		env := c.Services[s].Environment
		if env["ZOOKEEPER_IDENTITY"] != identity && env["PATHWAYHUB_ZOOKEEPER_IDENTITY"] != identity {
			t.Errorf("%s does not log in to the keeper as the servers do", s)
		}
	}
	for _, h := range []string{"hub1", "hub2"} {
		shared(h, "/shared", "dashboards", "/state")
	}
	if mounts["hub1"]["/state"] == mounts["hub2"]["/state"] {
		t.Error("the hubs share a data directory: their audit chains would be one")
	}
	for h, own := range map[string][2]string{"hub1": {"clickhouse1", "clickhouse2"}, "hub2": {"clickhouse2", "clickhouse1"}} {
		cmd := strings.Join(c.Services[h].Command, " ")
		for _, want := range []string{"--clickhouse=" + own[0] + ":9000", "--clickhouse-failover=" + own[1] + ":9000",
			"--clickhouse-cluster=pathway", "--zookeeper=keeper:9181", "--share-passwords-file=/shared/", "--clickhouse-database=pathway"} {
			if !strings.Contains(cmd, want) {
				t.Errorf("%s's command lacks %s: %s", h, want, cmd)
			}
		}
	}
	if a := c.Services["lb"].Networks["default"].Aliases; !slices.Contains(a, "hub") || !slices.Contains(a, "clickhouse") {
		t.Errorf("the load balancer is not reached as hub and clickhouse: %v", a)
	}
	lb := read("deploy/compose/cluster/haproxy.cfg")
	for _, want := range []string{"server hub1 hub1:8080 check", "server hub2 hub2:8080 check", "server clickhouse1 clickhouse1:9000 check", "server clickhouse2 clickhouse2:9000 check"} {
		if !strings.Contains(lb, want) {
			t.Errorf("haproxy.cfg lacks %q", want)
		}
	}
	if mounts["lb"]["/usr/local/etc/haproxy/haproxy.cfg"] != "./deploy/compose/cluster/haproxy.cfg" {
		t.Error("the load balancer does not mount haproxy.cfg")
	}
}
