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

# index.recipients[org] is the org's recipient entries across every
# agreement, in agreement order, each {agreement, recipient, valid_from,
# valid_until, datasets, export, match, grant}. match holds lookup sets for
# the input: match.dataset has "" and each dataset covered, match.recipient
# has "" and the recipient id, match.action has "read", and "export" when
# the recipient may export.

# An allowed decision leaves its reasons and agreements for the engine to
# derive from the grants, which keeps the common path short.
decision := {
	"allow": true,
	"reasons": [],
	"agreements": [],
	"grants": grants,
} if {
	grants := [e.grant |
		some e in index.recipients[input.org]
		e.valid_from <= input.date
		input.date <= e.valid_until
		e.match.recipient[input.recipient]
		e.match.dataset[input.dataset]
		e.match.action[input.action]
		for_return(e)
	]
	grants != []
} else := {
	"allow": false,
	"reasons": reasons,
	"agreements": [],
	"grants": [],
}

reasons := sort(deny) if count(deny) > 0

else := ["no agreement in force grants this"]

# An export that names a force (input.force) is of that force's annual
# return to the Home Office: only the force's own supervisors or analysts
# get it, that is a recipient entry of the force itself, in one of those
# roles, scoped to that force alone. A read ignores input.force.
return_roles := {"force_supervisor", "force_analyst"}

for_return(_) if input.force == ""

for_return(_) if input.action == "read"

for_return(e) if {
	input.action == "export"
	input.org == concat("/", ["force", input.force])
	e.grant.role in return_roles
	e.grant.forces == [input.force]
}

# The rest explains a refusal, and is evaluated only for one.

default entries := []

entries := index.recipients[input.org]

requested := [e | some e in entries; e.match.recipient[input.recipient]]

covering := [e | some e in requested; e.match.dataset[input.dataset]]

active := [e |
	some e in covering
	e.valid_from <= input.date
	input.date <= e.valid_until
]

# deny gives every reason a read or export is refused.
deny contains sprintf("dataset %q is not one of incidents, health_updates", [input.dataset]) if {
	input.dataset != ""
	not input.dataset in lib.datasets
}

deny contains sprintf("%s is not a recipient of any agreement", [input.org]) if {
	entries == []
}

deny contains sprintf("%s is not recipient %q", [input.org, input.recipient]) if {
	entries != []
	requested == []
}

deny contains sprintf("no agreement of %s covers %q", [input.org, input.dataset]) if {
	input.dataset in lib.datasets
	requested != []
	covering == []
}

deny contains reason if {
	active == []
	some e in covering
	reason := lib.inactive_reason(e, input.date)
}

deny contains sprintf("only force %s's own supervisors or analysts, scoped to it alone, may export its annual return", [input.force]) if {
	input.action == "export"
	input.force != ""
	not some_return_entry
}

some_return_entry if {
	some e in active
	for_return(e)
}

deny contains sprintf("recipient %q of agreement %q may not export", [e.recipient, e.agreement]) if {
	input.action == "export"
	some e in active
	not e.export
}
