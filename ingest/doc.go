// Package ingest is the force's side of Pathway Hub: what a force or trust
// runs to send its feed, and what a recipient runs to check a pack. It holds
// no code; its sub-packages are:
//
//   - wire: the limits and codes of IngestService both sides need;
//   - export: the documented local export format (CSV, NDJSON), parsed into
//     records with raw local identifiers;
//   - pseudo: the region's keyed tokens (HMAC-SHA256) that replace them
//     before anything leaves the force;
//   - validate: the data standard's rules, the same the hub applies;
//   - client: submission over Connect, with safe retries;
//   - simulate: simulated feeds for demos, tests and benchmarks;
//   - pack and login: evidence packs' signatures, and the evidence pages'
//     one-time login.
//
// Layer 1 (ingest): besides its own room it may import schemas only, so
// pathwayctl links no ClickHouse driver, no policy engine and no dashboard
// generator. The layers are checked by layers_test.go at the repository's top.
package ingest
