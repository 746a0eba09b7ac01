#!/bin/sh
# DEMO ONLY: start mosquitto for deploy/compose.yaml with the production settings of
# deploy/mosquitto.conf (persistence, queue sizes, session expiry, in-flight window,
# no anonymous clients, the ACL) but a plain, TLS-less listener and demo passwords.
#
# It rewrites only what names the production host: listener and TLS files, the password
# and ACL files, the persistence directory, the log destination and the run-as user. The
# durability settings come from the shipped file unchanged, so the demo queues signals for
# a stopped gateway exactly as production does.
#
#   mosquitto-demo.sh                  write the config and password file, exec mosquitto
#   mosquitto-demo.sh --print-config   print the rendered config and exit (used by tests)
#
# Environment (defaults fit the eclipse-mosquitto:2 image):
#   SHIPPED_CONF, SHIPPED_ACL   deploy/mosquitto.conf and deploy/mosquitto.acl, mounted
#   MOSQUITTO_DIR               where config, password file and data go (/mosquitto)
#   MOSQUITTO_USER              the user mosquitto drops to (mosquitto)
#   DEMO_PORT                   the plain listener (1883)
#   OTPGATE_MQTT_PASSWORD, FEED_HLR_PASSWORD, FEED_FIREWALL_PASSWORD   demo passwords
set -eu

SHIPPED_CONF=${SHIPPED_CONF:-/otpgate/mosquitto.conf}
SHIPPED_ACL=${SHIPPED_ACL:-/otpgate/mosquitto.acl}
MOSQUITTO_DIR=${MOSQUITTO_DIR:-/mosquitto}
MOSQUITTO_USER=${MOSQUITTO_USER:-mosquitto}
DEMO_PORT=${DEMO_PORT:-1883}
CONF_DIR="$MOSQUITTO_DIR/config"
DATA_DIR="$MOSQUITTO_DIR/data"

render() {
    echo "# Rendered by deploy/compose/mosquitto-demo.sh from $SHIPPED_CONF. DEMO ONLY."
    # Every setting of the shipped file except those that name the production host.
    awk '
        BEGIN {
            n = split("listener port bind_address bind_interface socket_domain certfile keyfile " \
                      "cafile capath crlfile ciphers ciphers_tls1.3 tls_version tls_engine " \
                      "tls_keyform require_certificate use_identity_as_username " \
                      "use_subject_as_username dhparamfile psk_file psk_hint password_file " \
                      "acl_file persistence_location persistence_file log_dest pid_file user " \
                      "include_dir", keys, " ")
            for (i = 1; i <= n; i++) drop[keys[i]] = 1
        }
        /^[ \t]*(#|$)/ { next }
        !($1 in drop) { print }
    ' "$SHIPPED_CONF"
    echo "# ---- demo replacements ----"
    echo "listener $DEMO_PORT"
    echo "password_file $CONF_DIR/passwd"
    echo "acl_file $CONF_DIR/mosquitto.acl"
    echo "persistence_location $DATA_DIR/"
    echo "log_dest stdout"
    echo "user $MOSQUITTO_USER"
}

if [ "${1:-}" = "--print-config" ]; then
    render
    exit 0
fi

: "${OTPGATE_MQTT_PASSWORD:?set OTPGATE_MQTT_PASSWORD}"
: "${FEED_HLR_PASSWORD:?set FEED_HLR_PASSWORD}"
: "${FEED_FIREWALL_PASSWORD:?set FEED_FIREWALL_PASSWORD}"

mkdir -p "$CONF_DIR" "$DATA_DIR"
render > "$CONF_DIR/otpgate-demo.conf"
cp "$SHIPPED_ACL" "$CONF_DIR/mosquitto.acl"
rm -f "$CONF_DIR/passwd"
mosquitto_passwd -c -b "$CONF_DIR/passwd" otpgate "$OTPGATE_MQTT_PASSWORD"
mosquitto_passwd -b "$CONF_DIR/passwd" feed-hlr "$FEED_HLR_PASSWORD"
mosquitto_passwd -b "$CONF_DIR/passwd" feed-firewall "$FEED_FIREWALL_PASSWORD"
# mosquitto reads the password file and the ACL again after dropping to its user (and on
# SIGHUP); newer versions refuse files that others may read.
chown "$MOSQUITTO_USER:$MOSQUITTO_USER" "$CONF_DIR/passwd" "$CONF_DIR/mosquitto.acl" "$DATA_DIR"
chmod 0600 "$CONF_DIR/passwd" "$CONF_DIR/mosquitto.acl"
exec mosquitto -c "$CONF_DIR/otpgate-demo.conf"
