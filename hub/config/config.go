package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/pathwayhub/pathwayhub/hub/api/ingest"
	"github.com/pathwayhub/pathwayhub/hub/measures"
	"github.com/pathwayhub/pathwayhub/hub/publish/monitor"
	"github.com/pathwayhub/pathwayhub/hub/publish/share"
	"github.com/pathwayhub/pathwayhub/hub/sqltext"
)

// Config is the hub's configuration. Field comments are the documentation of
// each setting; the flag and environment names are in the settings table.
type Config struct {
	// Listen is the address the API, evidence pages, reflection and health
	// checks listen on.
	Listen string `yaml:"listen"`
	// MetricsListen is the address Prometheus's /metrics is served on, apart
	// from the API: the metrics carry per-force live counts and per-feed
	// rejection counts that the agreements give only to supervisors and
	// operators, so by default only this machine can read them.
	MetricsListen string `yaml:"metrics_listen"`
	// InsecurePlaintext allows serving without TLS on an address other
	// machines can reach: only for a hub behind a proxy that terminates TLS
	// (compose, the Dockerfile). Tokens and health data cross the network.
	InsecurePlaintext bool `yaml:"insecure_plaintext"`
	// BehindTLS says a proxy in front terminates TLS: the evidence pages'
	// session cookie is then marked Secure (as it always is when the hub
	// serves TLS itself).
	BehindTLS bool `yaml:"behind_tls"`
	// RequestReadTimeout bounds how long a request's body may take to
	// arrive: a client that stalls or trickles is cut off then, and frees
	// its share of the ingest budget.
	RequestReadTimeout time.Duration `yaml:"request_read_timeout"`
	// TLSCert and TLSKey, when both set, serve HTTPS (HTTP/2 and HTTP/1.1);
	// otherwise the hub serves cleartext HTTP/2 (h2c) and HTTP/1.1, for local
	// use behind a TLS-terminating proxy.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Credentials is the path of the credentials file (see hub/api/auth).
	Credentials string `yaml:"credentials"`
	// ClickHouse is the storage connection.
	ClickHouse ClickHouse `yaml:"clickhouse"`
	// DataDir holds the managed ClickHouse's data when ClickHouse.Addr is
	// empty.
	DataDir string `yaml:"data_dir"`
	// LogLevel is debug, info, warn or error; LogFormat is text or json.
	LogLevel  string `yaml:"log_level"`
	LogFormat string `yaml:"log_format"`
	// ShutdownTimeout bounds the graceful shutdown.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// ClockSkew is how far in the future a submitted timestamp may lie.
	ClockSkew time.Duration `yaml:"clock_skew"`
	// Agreements is the directory of data-sharing agreement files (see
	// policy/README.md). The hub reloads it on change and on SIGHUP.
	Agreements string `yaml:"agreements"`
	// Shares configure the share publisher.
	Shares Shares `yaml:"shares"`
	// Thresholds are the pathway standards measures and the live monitor use.
	Thresholds measures.Thresholds `yaml:"thresholds"`
	// MonitorInterval is how often the live pathway monitor evaluates the
	// open incidents against the clock (it reads nothing to do so).
	MonitorInterval time.Duration `yaml:"monitor_interval"`
	// MonitorReload is how often the monitor reads every open incident
	// again; between reloads it reads the incidents of each stored batch.
	MonitorReload time.Duration `yaml:"monitor_reload"`
	// IngestInflightBytes bounds the bytes of request bodies ingest works on
	// at once; further requests wait their turn. It bounds the hub's memory
	// under many large batches.
	IngestInflightBytes int64 `yaml:"ingest_inflight_bytes"`
}

// Shares configure the share publisher (hub/publish/share).
type Shares struct {
	// Interval is the schedule of full publications; the publisher also
	// publishes shortly after each stored batch.
	Interval time.Duration `yaml:"interval"`
	// Debounce is how long after a stored batch, with no further batch, the
	// aggregate shares are published; MaxDelay bounds the wait under a
	// steady trickle. (Supervisors' record shares do not wait for either:
	// they are written within a second of the batch.)
	Debounce time.Duration `yaml:"debounce"`
	MaxDelay time.Duration `yaml:"max_delay"`
	// Months is how many complete months of measures are published.
	Months int `yaml:"months"`
	// Workers is how many shares a publication builds at once.
	Workers int `yaml:"workers"`
	// Prefix starts every share database and recipient ClickHouse user
	// name, so several hubs can share one ClickHouse.
	Prefix string `yaml:"prefix"`
	// SPCRebase are known change dates, such as an RCRP phase going live:
	// SPC limits are recalculated from the first month on or after each.
	SPCRebase []time.Time `yaml:"spc_rebase"`
	// UsersFile is where the ClickHouse users.d file of recipient users is
	// written. Empty means: the managed ClickHouse's users.d directory, or
	// <data_dir>/share-users.xml with an external ClickHouse (mount it into
	// the server's users.d directory).
	UsersFile string `yaml:"users_file"`
	// PasswordsFile holds the recipient users' passwords (mode 0600). Empty
	// means <data_dir>/share-passwords.yaml.
	PasswordsFile string `yaml:"passwords_file"`
}

// ClickHouse is the storage connection. With an empty Addr the hub starts and
// manages a local ClickHouse server.
type ClickHouse struct {
	// Addr is the native-protocol address, host:port.
	Addr     string `yaml:"addr"`
	Database string `yaml:"database"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// Failover lists more servers of the same cluster (host:port,
	// comma-separated): a connection goes to the first of Addr and these
	// that answers.
	Failover string `yaml:"failover"`
	// Cluster is the name of the ClickHouse cluster (remote_servers) the
	// hub's tables live on, replicated with Distributed tables over them;
	// empty means one server.
	Cluster string `yaml:"cluster"`
	// ZooKeeper lists the coordination service's nodes (host:port,
	// comma-separated) the cluster runs: the hubs take turns to publish
	// through a lease there. Required with Cluster.
	ZooKeeper string `yaml:"zookeeper"`
	// ZooKeeperIdentity is the login, "user:password", that every server
	// of the cluster has in its <zookeeper><identity>: the hub logs in with
	// it too, and its nodes (the lease, the recipients' users and their
	// passwords) are that identity's alone. Required with Cluster.
	ZooKeeperIdentity string `yaml:"zookeeper_identity"`
}

// FailoverAddrs returns Failover as a list.
func (c ClickHouse) FailoverAddrs() []string { return splitList(c.Failover) }

// ZooKeeperAddrs returns ZooKeeper as a list.
func (c ClickHouse) ZooKeeperAddrs() []string { return splitList(c.ZooKeeper) }

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// Default returns the built-in defaults.
func Default() Config {
	return Config{
		Listen:        "127.0.0.1:8080",
		MetricsListen: "127.0.0.1:9464",
		// A 16 MiB batch at about 2 Mbit/s.
		RequestReadTimeout: time.Minute,
		ClickHouse:         ClickHouse{Database: "pathway", Username: "default"},
		DataDir:            "var",
		LogLevel:           "info",
		LogFormat:          "text",
		ShutdownTimeout:    15 * time.Second,
		ClockSkew:          5 * time.Minute,
		Shares: Shares{Interval: share.DefaultInterval, Debounce: share.DefaultDebounce, MaxDelay: share.DefaultMaxDelay,
			Months: share.DefaultMonths, Prefix: share.DefaultPrefix, Workers: share.DefaultWorkers},
		Thresholds:      measures.DefaultThresholds(),
		MonitorInterval: monitor.DefaultInterval,
		MonitorReload:   monitor.DefaultReloadInterval,
		// Two largest requests (16 MiB each), or about eight of 10,000
		// records; each organisation may hold half.
		IngestInflightBytes: ingest.DefaultInflightBytes,
	}
}

// setting binds one field to its flag and environment variable.
type setting struct {
	flag, env, usage string
	field            func(*Config) any // *string, *time.Duration, *int64 or *bool
}

var settings = []setting{
	{"listen", "PATHWAYHUB_LISTEN", "address for the API, evidence pages, reflection and health checks", func(c *Config) any { return &c.Listen }},
	{"insecure-plaintext", "PATHWAYHUB_INSECURE_PLAINTEXT", "serve without TLS on a non-loopback --listen (only behind a TLS-terminating proxy)", func(c *Config) any { return &c.InsecurePlaintext }},
	{"behind-tls", "PATHWAYHUB_BEHIND_TLS", "a proxy in front terminates TLS (session cookies are marked Secure)", func(c *Config) any { return &c.BehindTLS }},
	{"request-read-timeout", "PATHWAYHUB_REQUEST_READ_TIMEOUT", "how long a request body may take to arrive", func(c *Config) any { return &c.RequestReadTimeout }},
	{"metrics-listen", "PATHWAYHUB_METRICS_LISTEN", "address for Prometheus /metrics (operators only: it carries per-force live counts)", func(c *Config) any { return &c.MetricsListen }},
	{"tls-cert", "PATHWAYHUB_TLS_CERT", "TLS certificate file (with --tls-key: serve HTTPS)", func(c *Config) any { return &c.TLSCert }},
	{"tls-key", "PATHWAYHUB_TLS_KEY", "TLS private key file", func(c *Config) any { return &c.TLSKey }},
	{"credentials", "PATHWAYHUB_CREDENTIALS", "credentials file mapping token hashes to forces and trusts", func(c *Config) any { return &c.Credentials }},
	{"clickhouse", "PATHWAYHUB_CLICKHOUSE", "ClickHouse native address host:port; empty starts a managed local server", func(c *Config) any { return &c.ClickHouse.Addr }},
	{"clickhouse-database", "PATHWAYHUB_CLICKHOUSE_DATABASE", "raw database name", func(c *Config) any { return &c.ClickHouse.Database }},
	{"clickhouse-user", "PATHWAYHUB_CLICKHOUSE_USER", "ClickHouse user", func(c *Config) any { return &c.ClickHouse.Username }},
	{"clickhouse-password", "PATHWAYHUB_CLICKHOUSE_PASSWORD", "ClickHouse password (prefer the environment variable)", func(c *Config) any { return &c.ClickHouse.Password }},
	{"clickhouse-failover", "PATHWAYHUB_CLICKHOUSE_FAILOVER", "more servers of the same ClickHouse cluster, host:port, comma-separated, tried in order when --clickhouse does not answer", func(c *Config) any { return &c.ClickHouse.Failover }},
	{"clickhouse-cluster", "PATHWAYHUB_CLICKHOUSE_CLUSTER", "ClickHouse cluster name: replicated tables with Distributed tables over them (needs --clickhouse and --zookeeper)", func(c *Config) any { return &c.ClickHouse.Cluster }},
	{"zookeeper", "PATHWAYHUB_ZOOKEEPER", "the cluster's ZooKeeper nodes, host:port, comma-separated: one hub publishes at a time through a lease there", func(c *Config) any { return &c.ClickHouse.ZooKeeper }},
	{"zookeeper-identity", "PATHWAYHUB_ZOOKEEPER_IDENTITY", "the cluster's ZooKeeper login, user:password, as in every server's <zookeeper><identity> (prefer the environment variable): the hub's nodes there are this identity's alone", func(c *Config) any { return &c.ClickHouse.ZooKeeperIdentity }},
	{"data-dir", "PATHWAYHUB_DATA_DIR", "directory for the managed ClickHouse's data", func(c *Config) any { return &c.DataDir }},
	{"log-level", "PATHWAYHUB_LOG_LEVEL", "debug, info, warn or error", func(c *Config) any { return &c.LogLevel }},
	{"log-format", "PATHWAYHUB_LOG_FORMAT", "text or json", func(c *Config) any { return &c.LogFormat }},
	{"shutdown-timeout", "PATHWAYHUB_SHUTDOWN_TIMEOUT", "bound on graceful shutdown", func(c *Config) any { return &c.ShutdownTimeout }},
	{"clock-skew", "PATHWAYHUB_CLOCK_SKEW", "how far in the future a submitted timestamp may lie", func(c *Config) any { return &c.ClockSkew }},
	{"agreements", "PATHWAYHUB_AGREEMENTS", "directory of data-sharing agreement files (reloaded on change and SIGHUP)", func(c *Config) any { return &c.Agreements }},
	{"publish-interval", "PATHWAYHUB_PUBLISH_INTERVAL", "schedule of full share publications (also published shortly after ingest)", func(c *Config) any { return &c.Shares.Interval }},
	{"share-users-file", "PATHWAYHUB_SHARE_USERS_FILE", "ClickHouse users.d file of recipient users (default: managed server's users.d, else <data-dir>/share-users.xml)", func(c *Config) any { return &c.Shares.UsersFile }},
	{"share-passwords-file", "PATHWAYHUB_SHARE_PASSWORDS_FILE", "recipient users' passwords (default <data-dir>/share-passwords.yaml)", func(c *Config) any { return &c.Shares.PasswordsFile }},
	{"publish-debounce", "PATHWAYHUB_PUBLISH_DEBOUNCE", "publish the aggregate shares this long after the last stored batch", func(c *Config) any { return &c.Shares.Debounce }},
	{"publish-max-delay", "PATHWAYHUB_PUBLISH_MAX_DELAY", "under a steady trickle, publish the aggregate shares at least this often", func(c *Config) any { return &c.Shares.MaxDelay }},
	{"publish-workers", "PATHWAYHUB_PUBLISH_WORKERS", "how many shares a publication builds at once (each keeps about one ClickHouse core busy)", func(c *Config) any { return &c.Shares.Workers }},
	{"monitor-interval", "PATHWAYHUB_MONITOR_INTERVAL", "how often the live pathway monitor evaluates open incidents against the clock (reads nothing)", func(c *Config) any { return &c.MonitorInterval }},
	{"monitor-reload", "PATHWAYHUB_MONITOR_RELOAD", "how often the live monitor reads every open incident again (it reads each stored batch's at once)", func(c *Config) any { return &c.MonitorReload }},
	{"ingest-inflight-bytes", "PATHWAYHUB_INGEST_INFLIGHT_BYTES", "bytes of request bodies ingest works on at once; more requests wait (bounds memory)", func(c *Config) any { return &c.IngestInflightBytes }},
}

// Loader collects flag values until Load combines every source.
type Loader struct {
	fs    *pflag.FlagSet
	flags Config
	file  string
}

// RegisterFlags adds the --config flag and one flag per setting to fs.
func RegisterFlags(fs *pflag.FlagSet) *Loader {
	l := &Loader{fs: fs, flags: Default()}
	fs.StringVar(&l.file, "config", os.Getenv("PATHWAYHUB_CONFIG"), "optional YAML configuration file (env PATHWAYHUB_CONFIG)")
	for _, s := range settings {
		usage := fmt.Sprintf("%s (env %s)", s.usage, s.env)
		switch p := s.field(&l.flags).(type) {
		case *string:
			fs.StringVar(p, s.flag, *p, usage)
		case *time.Duration:
			fs.DurationVar(p, s.flag, *p, usage)
		case *int64:
			fs.Int64Var(p, s.flag, *p, usage)
		case *int:
			fs.IntVar(p, s.flag, *p, usage)
		case *bool:
			fs.BoolVar(p, s.flag, *p, usage)
		}
	}
	return l
}

// Load returns the configuration: defaults, then the YAML file, then the
// environment, then the flags given on the command line; then it validates.
func (l *Loader) Load(getenv func(string) string) (Config, error) {
	cfg := Default()
	if l.file != "" {
		raw, err := os.ReadFile(l.file)
		if err != nil {
			return Config{}, fmt.Errorf("config: %w", err)
		}
		if err := decodeYAML(raw, &cfg); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", l.file, err)
		}
	}
	for _, s := range settings {
		v := getenv(s.env)
		if v == "" {
			continue
		}
		if err := setFromString(s.field(&cfg), v); err != nil {
			return Config{}, fmt.Errorf("config: %s: %w", s.env, err)
		}
	}
	for _, s := range settings {
		if !l.fs.Changed(s.flag) {
			continue
		}
		switch p := s.field(&cfg).(type) {
		case *string:
			*p = *s.field(&l.flags).(*string)
		case *time.Duration:
			*p = *s.field(&l.flags).(*time.Duration)
		case *int64:
			*p = *s.field(&l.flags).(*int64)
		case *int:
			*p = *s.field(&l.flags).(*int)
		case *bool:
			*p = *s.field(&l.flags).(*bool)
		}
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// Parse decodes a YAML configuration over the defaults and validates it.
func Parse(raw []byte) (Config, error) {
	cfg := Default()
	if err := decodeYAML(raw, &cfg); err != nil {
		return Config{}, fmt.Errorf("config: %w", err)
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func decodeYAML(raw []byte, cfg *Config) error {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	// An empty file decodes as io.EOF: it sets nothing.
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

func setFromString(p any, v string) error {
	switch p := p.(type) {
	case *string:
		*p = v
	case *time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		*p = d
	case *int64:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return err
		}
		*p = n
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return err
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return err
		}
		*p = b
	}
	return nil
}

// Loopback reports whether host (an IP address or name) is reachable only
// from this machine.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Validate checks the configuration and names the setting at fault.
func (c *Config) Validate() error {
	var errs []error
	if host, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen: %q is not host:port", c.Listen))
	} else if !Loopback(host) && c.TLSCert == "" && !c.InsecurePlaintext {
		errs = append(errs, fmt.Errorf("listen: %q is reachable from other machines but has no TLS: set tls_cert and tls_key, "+
			"or insecure_plaintext only behind a proxy that terminates TLS", c.Listen))
	}
	if _, _, err := net.SplitHostPort(c.MetricsListen); err != nil {
		errs = append(errs, fmt.Errorf("metrics_listen: %q is not host:port", c.MetricsListen))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("tls_cert and tls_key: set both or neither"))
	}
	if c.ClickHouse.Addr != "" {
		if _, _, err := net.SplitHostPort(c.ClickHouse.Addr); err != nil {
			errs = append(errs, fmt.Errorf("clickhouse.addr: %q is not host:port", c.ClickHouse.Addr))
		}
	} else if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: required when clickhouse.addr is empty (managed ClickHouse)"))
	}
	for _, a := range append(c.ClickHouse.FailoverAddrs(), c.ClickHouse.ZooKeeperAddrs()...) {
		if _, _, err := net.SplitHostPort(a); err != nil {
			errs = append(errs, fmt.Errorf("clickhouse.failover, clickhouse.zookeeper: %q is not host:port", a))
		}
	}
	if c.ClickHouse.Cluster != "" {
		if !sqltext.ValidIdent(c.ClickHouse.Cluster) {
			errs = append(errs, fmt.Errorf("clickhouse.cluster: %q must be lower-case letters, digits and underscores", c.ClickHouse.Cluster))
		}
		if c.ClickHouse.Addr == "" || len(c.ClickHouse.ZooKeeperAddrs()) == 0 {
			errs = append(errs, errors.New("clickhouse.cluster: needs clickhouse.addr (a cluster is not managed by the hub) and clickhouse.zookeeper"))
		}
		if u, pw, _ := strings.Cut(c.ClickHouse.ZooKeeperIdentity, ":"); u == "" || pw == "" {
			// Without a login, anyone who reaches ZooKeeper could add a
			// ClickHouse user to every server or hold the publishing lease.
			errs = append(errs, errors.New(`clickhouse.zookeeper_identity: needs "user:password", the identity every server of the cluster logs in to ZooKeeper with`))
		}
	}
	if !sqltext.ValidIdent(c.ClickHouse.Database) {
		errs = append(errs, fmt.Errorf("clickhouse.database: %q must be lower-case letters, digits and underscores", c.ClickHouse.Database))
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel))
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log_format: %q is not text or json", c.LogFormat))
	}
	if c.RequestReadTimeout <= 0 {
		errs = append(errs, fmt.Errorf("request_read_timeout: %v must be positive", c.RequestReadTimeout))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("shutdown_timeout: must be positive"))
	}
	if c.ClockSkew < 0 || c.ClockSkew > time.Hour {
		errs = append(errs, errors.New("clock_skew: must be between 0 and 1h"))
	}
	if c.Shares.Interval <= 0 {
		errs = append(errs, errors.New("shares.interval: must be positive"))
	}
	if !sqltext.ValidIdent(c.Shares.Prefix) {
		errs = append(errs, fmt.Errorf("shares.prefix: %q must be lower-case letters, digits and underscores", c.Shares.Prefix))
	}
	if c.Shares.Workers < 1 || c.Shares.Workers > 64 {
		errs = append(errs, fmt.Errorf("shares.workers: %d must be between 1 and 64", c.Shares.Workers))
	}
	if c.Shares.Months < 1 || c.Shares.Months > 240 {
		errs = append(errs, fmt.Errorf("shares.months: %d must be between 1 and 240", c.Shares.Months))
	}
	if c.IngestInflightBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("ingest_inflight_bytes: %d is below 1 MiB (1048576)", c.IngestInflightBytes))
	}
	if c.MonitorInterval <= 0 || c.MonitorReload <= 0 {
		errs = append(errs, errors.New("monitor_interval, monitor_reload: must be positive"))
	}
	if c.Shares.Debounce <= 0 || c.Shares.MaxDelay < c.Shares.Debounce {
		errs = append(errs, fmt.Errorf("shares.debounce, shares.max_delay: %s, %s: both positive, the delay at least the debounce", c.Shares.Debounce, c.Shares.MaxDelay))
	}
	if err := c.Thresholds.Validate(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}
