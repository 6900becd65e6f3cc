#!/bin/sh
# Writes the Grafana dashboards and provisioning and the Prometheus
# configuration into /out once the hub has published every share (and so
# written every recipient's ClickHouse password). Run by compose.yaml's
# dashboards service.
set -eu
for i in $(seq 1 120); do
	if pathwayhub dashboards --out /out --agreements /etc/pathwayhub/agreements \
		--passwords /state/share-passwords.yaml --dashboards-path /etc/pathwayhub/grafana/dashboards \
		--grafana-clickhouse-host clickhouse --prometheus-url http://prometheus:9090 --hub-target hub:8080; then
		# Grafana runs as uid 472 and must read the datasources file (0600).
		chown -R 472:0 /out/grafana
		exit 0
	fi
	echo "dashboards: waiting for the hub's first publication ($i)"
	sleep 2
done
exit 1
