#!/bin/sh
# Starts a Mosquitto broker (Debian package `mosquitto`) for medhub's device ingest, in the
# foreground, listening on ADDRESS:PORT only (default 127.0.0.1), with its config and
# persistence in DIR.
#
#   deploy/mosquitto/start.sh DIR PORT [ADDRESS]     (Ctrl-C or SIGTERM stops it)
#
# Anonymous MQTT connections are allowed (keep ADDRESS on loopback or a private test network): the broker is transport, not the trust
# boundary. medhub checks the device's OAuth access token carried in every readings payload
# (docs/formats/ingest.md, "MQTT"). The queue limits are raised so that a persistent
# session (medhub's, clean_session=false) keeps every QoS 1 message published while medhub
# is down; readings that still get dropped are resent by the device until acknowledged.
set -eu
dir=${1:?usage: start.sh DIR PORT}
port=${2:?usage: start.sh DIR PORT}
address=${3:-127.0.0.1}
mkdir -p "$dir"
cat >"$dir/mosquitto.conf" <<CONF
listener $port $address
allow_anonymous true
user $(id -un)
persistence true
persistence_location $dir/
autosave_interval 1
max_queued_messages 1000000
max_inflight_messages 1000
max_packet_size 16777216
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
CONF
exec /usr/sbin/mosquitto -c "$dir/mosquitto.conf"
