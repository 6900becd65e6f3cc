// Package policy holds Pathway Hub's data-sharing agreements and decides, under
// them, who may submit data and who may see what.
//
// Agreements are YAML files, one or more agreements to a file (README.md in
// this directory documents every field):
//
//	agreements:
//	  - id: london-rcrp
//	    title: London RCRP data sharing
//	    version: "2024.1"
//	    controllers: [force/btp, trust/RV3]        # who submits
//	    datasets: [incidents, health_updates]
//	    valid_from: 2024-04-01                     # inclusive
//	    valid_until: 2027-03-31                    # inclusive
//	    retention: 24 months                       # N days | months | years
//	    recipients:
//	      - id: ncl_icb                            # unique everywhere; names share_ncl_icb
//	        org: icb/QMJ
//	        role: commissioner
//	        purpose: Commission crisis services.
//	        scope: {lads: [E09000007]}             # forces, regions and/or lads
//	        granularity: aggregate                 # or record (force roles only)
//	        measures: [all]                        # or fields: [...] for record
//	        disclosure: {threshold: 7, rounding: 5}
//	        export: true
//
// LoadAgreements validates a directory of such files and reports every
// problem, naming the file, the agreement and the field; unknown keys are
// errors. A new revision of an agreement is an edit of its file: the engine's
// revision (a hash of the Rego sources and the files) changes with it.
//
// An Engine loads every *.yaml file under a directory, validates it, and
// evaluates the embedded Rego policies (rego/*.rego) against an index of the
// agreements with OPA's prepared queries:
//
//	eng, err := policy.New(ctx, policy.Options{Dir: "policy/agreements", Measures: measures.IDs(), Auditor: audit})
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
//
// Layer 1 (policy): besides its own room it may import schemas.
// The layers are checked by layers_test.go at the repository's top.
package policy
