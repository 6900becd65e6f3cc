# METADATA
# title: Decision
# description: |
#   The one entry point the engine evaluates. input is
#   {action, org, dataset, force, pos_org, recipient, date}; the result is
#   {allow, reasons, agreements, grants}. When allow is true, reasons (and,
#   for read and export, agreements) are left empty and the engine derives
#   them: one reason per agreement or grant, and the grants' agreements.
package pathway.decision

import data.pathway.approve
import data.pathway.read
import data.pathway.submit

default main := {
	"allow": false,
	"reasons": ["unknown action"],
	"agreements": [],
	"grants": [],
}

main := submit.decision if input.action == "submit"

main := read.decision if input.action in {"read", "export"}

main := approve.decision if input.action in {"approve", "reopen"}
