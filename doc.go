// Package pathwayhub is Pathway Hub: a cross-force data-sharing hub for
// police mental-health crisis data. Forces and NHS trusts push
// standardised, pseudonymised incident records over Connect into
// ClickHouse; Open Policy Agent enforces the data-sharing agreements; the
// hub publishes to each recipient what its agreement allows, and generates
// the Grafana dashboards that compare forces and regions.
//
// The folders are layers, and imports run one way, down them:
//
//	schemas/      the contract: proto, generated code, codes, migrations
//	hub/sqltext   the one rule for SQL literals and names
//	ingest/       what a force runs: wire constants, export, pseudonymise,
//	              validate, client, simulate, evidence packs and login
//	policy/       the agreements and the OPA engine (measure ids passed in)
//	hub/measures  the measure catalogue and pure statistics (no driver)
//	hub/store     ClickHouse: the raw tables' statements, connections,
//	              migrations, the managed server, the audit
//	hub/api/auth  credentials and the authentication every service uses
//	hub/publish   the share publisher and the live monitor
//	hub/api       the Connect services: ingest, access
//	hub/web       the evidence pages, EvidenceService and charts
//	dashboards/   Grafana dashboards from the catalogue and the agreements
//	hub/config    settings and their defaults
//	hub/app       the lifecycle: app.New, then Hub.Run
//	cmd/          thin mains, each with its tools beside it
//
// layers_test.go holds the same table and fails on an import that runs back
// up; the README's Architecture section walks a record and a recipient
// through it.
package pathwayhub
