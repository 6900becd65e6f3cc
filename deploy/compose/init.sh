#!/bin/sh
# Makes demo credentials for the simulated forces, once: the hub's
# credentials file (token hashes) and one token file per force for the
# simulator; and Grafana's admin password. Run by compose.yaml's init
# service.
set -eu
dir=/secrets
if [ ! -s "$dir/grafana-admin-password" ]; then
	umask 077
	head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/grafana-admin-password.tmp"
	# Grafana runs as its own user: readable, in a volume only it and init mount.
	chmod 0644 "$dir/grafana-admin-password.tmp"
	mv "$dir/grafana-admin-password.tmp" "$dir/grafana-admin-password"
	echo "init: wrote Grafana's admin password to $dir/grafana-admin-password"
fi
if [ -s "$dir/credentials.yaml" ]; then
	echo "init: credentials already in $dir"
	exit 0
fi
umask 077
tmp="$dir/credentials.yaml.tmp"
echo "# Demo credentials made by deploy/compose/init.sh." >"$tmp"
echo "credentials:" >>"$tmp"
for force in btp metropolitan city-of-london; do
	out=$(pathwayhub token --org "force/$force")
	echo "$out" | sed -n 's/^token (give to [^)]*): //p' >"$dir/token-$force"
	echo "$out" | sed -n '/^  - org:/,$p' >>"$tmp"
done
chmod 0644 "$tmp"
mv "$tmp" "$dir/credentials.yaml"
echo "init: wrote $dir/credentials.yaml and a token per force"
