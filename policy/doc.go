// Package policy holds Pathway Hub's data-sharing agreements and decides, under
// them, who may submit data and who may see what.
//
// Agreements are YAML files (see README.md in this directory for the format).
// An Engine loads every *.yaml file under a directory, validates it, and
// evaluates the embedded Rego policies (rego/*.rego) against an index of the
// agreements with OPA's prepared queries:
//
//	eng, err := policy.New(ctx, policy.Options{Dir: "policy/agreements", Auditor: audit})
//	d, err := eng.Decide(ctx, policy.Input{Action: policy.ActionSubmit, Org: "force/btp",
//		Dataset: policy.DatasetIncidents, Force: "btp"})
//
// Every decision carries a random id and the revision of the policy bundle
// (a hash of the Rego sources and the agreement files), is logged at debug
// level, counted in Prometheus metrics and passed to the Auditor; when the
// Auditor fails, Decide fails, so callers deny.
//
// Reload validates and compiles a new bundle before swapping it in
// atomically; a bundle that fails leaves the previous one in force. Watch
// reloads when the directory changes.
//
// Agreements are in force from valid_from to valid_until inclusive, as
// calendar dates in Europe/London.
package policy
