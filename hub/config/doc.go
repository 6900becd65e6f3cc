// Package config holds the hub's typed configuration and loads it from, in
// increasing precedence: built-in defaults, an optional YAML file, environment
// variables (PATHWAYHUB_*), and command-line flags.
//
// Layer 8 (hub/config): besides its own room it may import schemas, hub/sqltext, ingest, policy, hub/measures, hub/store, hub/api/auth, hub/publish, hub/api, hub/web, dashboards.
// The layers are checked by layers_test.go at the repository's top.
package config
