# METADATA
# title: Read and export
# description: |
#   What may input.org receive? One grant per recipient entry of the org in
#   an agreement in force, optionally restricted to input.recipient and to
#   agreements covering input.dataset. Export further needs export: true.
#   Each grant carries the obligations the reader must honour: scope,
#   granularity, measures or fields, disclosure control and retention.
package pathway.read

import data.pathway.index
import data.pathway.lib

# entries are the org's recipient entries across every agreement.
entries := object.get(index.recipients, input.org, [])

requested contains i if {
	some i, e in entries
	input.recipient in {"", e.recipient}
}

covering contains i if {
	some i in requested
	covers(entries[i])
}

covers(_) if input.dataset == ""

covers(e) if input.dataset in e.datasets

active contains i if {
	some i in covering
	lib.active(entries[i], input.date)
}

permitted contains i if {
	some i in active
	input.action == "read"
}

permitted contains i if {
	some i in active
	input.action == "export"
	entries[i].export
}

deny contains sprintf("dataset %q is not one of incidents, health_updates", [input.dataset]) if {
	input.dataset != ""
	not input.dataset in lib.datasets
}

deny contains sprintf("%s is not a recipient of any agreement", [input.org]) if {
	count(entries) == 0
}

deny contains sprintf("%s is not recipient %q", [input.org, input.recipient]) if {
	count(entries) > 0
	count(requested) == 0
}

deny contains sprintf("no agreement of %s covers %q", [input.org, input.dataset]) if {
	input.dataset in lib.datasets
	count(requested) > 0
	count(covering) == 0
}

deny contains reason if {
	count(active) == 0
	some i in covering
	reason := lib.inactive_reason(entries[i], input.date)
}

deny contains sprintf("recipient %q of agreement %q may not export", [e.recipient, e.agreement]) if {
	input.action == "export"
	count(permitted) == 0
	some i in active
	e := entries[i]
}

allow if {
	count(permitted) > 0
	count(deny) == 0
}

grants := [entries[i].grant | some i in sort(permitted)]

reasons := [sprintf("granted to recipient %q under agreement %q", [g.recipient, g.agreement]) | some g in grants] if allow

else := sort(deny) if count(deny) > 0

else := ["no agreement in force grants this"]

decision := {
	"allow": true,
	"reasons": reasons,
	"agreements": sort({g.agreement | some g in grants}),
	"grants": grants,
} if allow

else := {
	"allow": false,
	"reasons": reasons,
	"agreements": [],
	"grants": [],
}
