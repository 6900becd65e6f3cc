#!/bin/sh
# Submits 24 months of simulated history for each force, then runs a live
# feed of incidents opening, updating and closing for all three. Run by
# compose.yaml's simulator service.
set -eu
hub=${PATHWAYCTL_HUB:-http://hub:8080}
end=$(date -u +%Y-%m-01)
for force in btp metropolitan city-of-london; do
	pathwayctl simulate --force "$force" --months 24 --end "$end" --hub "$hub" --token "$(cat "/secrets/token-$force")"
done
for force in btp metropolitan city-of-london; do
	pathwayctl simulate --force "$force" --live --hub "$hub" --token "$(cat "/secrets/token-$force")" &
done
wait
