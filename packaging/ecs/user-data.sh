#!/usr/bin/env bash
# chaos-agent installer for ECS container instances: the whole user data of
# an ECS-optimized Amazon Linux 2023 host (it also runs on Debian 12).
#
# It joins the instance to its ECS cluster, installs the chaos-agent package
# after checking its SHA-256, makes sure sch_netem loads, fetches the agent
# key from an SSM SecureString parameter into /etc/chaos-agent/agent.key
# (mode 0600; the key passes through no command line, no environment and no
# log), sets the listen address, starts the agent and waits for its health
# endpoint. Every step is logged to /var/log/chaos-agent-install.log and the
# console. A second run changes nothing that is already right; any failure
# stops the agent and exits non-zero (fail closed).
#
# Terraform renders this file with templatefile(): the inputs below are its
# only placeholders (a dollar sign, the input's name in braces). Nowhere else,
# comments included, does a dollar sign or a percent sign stand before an
# opening brace, so the script needs no template escaping;
# tests/packaging/test_userdata.py checks that. To use it without Terraform,
# replace the placeholders by hand.
# The inputs are single-quoted placeholders on purpose:
# shellcheck disable=SC2016
set -euo pipefail

# ---- inputs (single-quoted: values must not contain a single quote)
ECS_CLUSTER='${ecs_cluster}'           # cluster name (letters, digits, - and _)
ECS_CONFIG_EXTRA='${ecs_config_extra}' # more ecs.config lines (KEY=value), may be empty
PACKAGE_URL='${package_url}'           # s3://bucket/key.rpm|.deb or https://...
PACKAGE_SHA256='${package_sha256}'     # the package's SHA-256, 64 hex digits
KEY_PARAMETER='${key_parameter}'       # SSM SecureString holding the key file's text
AGENT_PORT='${agent_port}'             # the agent's TCP port, e.g. 8421
LISTEN_ADDRESS='${listen_address}'     # empty: the instance's private IPv4 (IMDSv2)
ALLOWED_CIDRS='${allowed_cidrs}'       # space-separated CIDRs that may reach the agent; empty: any
AWS_REGION_NAME='${aws_region}'        # empty: the instance's region (IMDSv2)
AWS_ENDPOINT='${aws_endpoint}'         # empty on AWS; an endpoint URL for tests

LOG=/var/log/chaos-agent-install.log
STATE_DIR=/var/lib/chaos-agent-install
CONF=/etc/chaos-agent/agent.conf
KEY=/etc/chaos-agent/agent.key
UNIT=chaos-agent.service
DROPIN_DIR=/etc/systemd/system/chaos-agent.service.d
DROPIN=$DROPIN_DIR/50-allowed-cidrs.conf
IMDS=http://169.254.169.254

umask 077
mkdir -p "$(dirname "$LOG")"
touch "$LOG"
chmod 0600 "$LOG"
# Everything this script and its commands print goes to the log and the
# console. Nothing below prints the key.
exec > >(tee -a "$LOG") 2>&1

log() {
	printf '%s chaos-agent-install: %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*"
}

# die MESSAGE: fail closed. No agent keeps running after a failed install.
die() {
	log "FAILED: $*"
	if systemctl cat "$UNIT" >/dev/null 2>&1; then
		systemctl stop "$UNIT" >/dev/null 2>&1 || true
		log "chaos-agent is stopped"
	fi
	exit 1
}

trap 'die "unexpected error at line $LINENO (exit status $?)"' ERR

changed=0

# ---- inputs, checked before anything changes
check_inputs() {
	local v
	for v in "$ECS_CLUSTER" "$ECS_CONFIG_EXTRA" "$PACKAGE_URL" "$PACKAGE_SHA256" \
		"$KEY_PARAMETER" "$AGENT_PORT" "$LISTEN_ADDRESS" "$ALLOWED_CIDRS" \
		"$AWS_REGION_NAME" "$AWS_ENDPOINT"; do
		case $v in
		*'$''{'*) die "an input was not rendered (still holds a placeholder); render this file with Terraform's templatefile or edit the inputs at its top" ;;
		esac
	done
	[[ $ECS_CLUSTER =~ ^[A-Za-z0-9_-]{1,255}$ ]] ||
		die "ecs_cluster '$ECS_CLUSTER': 1-255 letters, digits, '-' or '_'"
	[[ $PACKAGE_URL =~ ^(s3://[a-z0-9.-]+/|https://)[^[:space:]]+\.(rpm|deb)$ ]] ||
		die "package_url '$PACKAGE_URL': must be s3://BUCKET/KEY or https://... ending in .rpm or .deb"
	[[ $PACKAGE_SHA256 =~ ^[0-9a-fA-F]{64}$ ]] ||
		die "package_sha256 '$PACKAGE_SHA256': must be 64 hex digits"
	[[ $KEY_PARAMETER =~ ^/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$ ]] ||
		die "key_parameter '$KEY_PARAMETER': not an SSM parameter name"
	if ! [[ $AGENT_PORT =~ ^[0-9]{1,5}$ ]] || [ "$AGENT_PORT" -lt 1 ] || [ "$AGENT_PORT" -gt 65535 ]; then
		die "agent_port '$AGENT_PORT': must be a port number 1-65535"
	fi
	[ -z "$LISTEN_ADDRESS" ] || [[ $LISTEN_ADDRESS =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] ||
		die "listen_address '$LISTEN_ADDRESS': must be an IPv4 address or empty"
	for v in $ALLOWED_CIDRS; do
		[[ $v =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}/[0-9]{1,2}$ ]] ||
			die "allowed_cidrs: '$v' is not an IPv4 CIDR such as 10.0.0.0/16"
	done
	[ -z "$AWS_REGION_NAME" ] || [[ $AWS_REGION_NAME =~ ^[a-z]{2}(-[a-z]+)+-[0-9]$ ]] ||
		die "aws_region '$AWS_REGION_NAME': not a region name such as eu-west-1"
	[ -z "$AWS_ENDPOINT" ] || [[ $AWS_ENDPOINT =~ ^https?://[^[:space:]]+$ ]] ||
		die "aws_endpoint '$AWS_ENDPOINT': must be an http(s) URL or empty"
	while IFS= read -r v; do
		[ -z "$v" ] || [[ $v =~ ^[A-Z][A-Z0-9_]*=[^[:cntrl:]]*$ ]] ||
			die "ecs_config_extra: line '$v' is not KEY=value"
	done <<<"$ECS_CONFIG_EXTRA"
}

# imds PATH: one instance metadata value through IMDSv2.
imds() {
	local token
	token=$(curl -sS --fail -m 5 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' \
		"$IMDS/latest/api/token") || return 1
	curl -sS --fail -m 5 -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/$1"
}

# aws_cli ARGS...: the AWS CLI with this run's region and endpoint.
aws_cli() {
	if [ -n "$AWS_ENDPOINT" ]; then
		aws --region "$AWS_REGION_NAME" --endpoint-url "$AWS_ENDPOINT" "$@"
	else
		aws --region "$AWS_REGION_NAME" "$@"
	fi
}

# install_file SRC DST MODE: move SRC to DST when they differ; sets changed.
install_file() {
	if [ -f "$2" ] && cmp -s "$1" "$2"; then
		rm -f "$1"
		log "$2 unchanged"
		return
	fi
	chmod "$3" "$1"
	mv -f "$1" "$2"
	changed=1
	log "$2 written"
}

ecs_config() {
	local tmp
	mkdir -p /etc/ecs
	tmp=$(mktemp /etc/ecs/.ecs.config.XXXXXX)
	{
		echo "ECS_CLUSTER=$ECS_CLUSTER"
		[ -z "$ECS_CONFIG_EXTRA" ] || printf '%s\n' "$ECS_CONFIG_EXTRA"
	} >"$tmp"
	# ECS reads the file; keep it readable as it always was.
	if [ -f /etc/ecs/ecs.config ] && cmp -s "$tmp" /etc/ecs/ecs.config; then
		rm -f "$tmp"
		log "/etc/ecs/ecs.config unchanged (cluster $ECS_CLUSTER)"
	else
		chmod 0644 "$tmp"
		mv -f "$tmp" /etc/ecs/ecs.config
		log "/etc/ecs/ecs.config written (cluster $ECS_CLUSTER)"
	fi
}

install_package() {
	local want got file kind
	want=$(tr 'A-F' 'a-f' <<<"$PACKAGE_SHA256")
	case $PACKAGE_URL in
	*.rpm) kind=.rpm ;;
	*) kind=.deb ;;
	esac
	if [ -f "$STATE_DIR/package.sha256" ] && [ "$(cat "$STATE_DIR/package.sha256")" = "$want" ] &&
		[ -x /usr/sbin/chaos-agent ]; then
		log "package $PACKAGE_URL (sha256 $want) already installed"
		return
	fi
	file=$(mktemp "/tmp/chaos-agent.XXXXXX$kind")
	log "downloading $PACKAGE_URL"
	case $PACKAGE_URL in
	s3://*) aws_cli s3 cp --only-show-errors "$PACKAGE_URL" "$file" ||
		die "cannot download $PACKAGE_URL (does the instance role allow s3:GetObject?)" ;;
	https://*) curl -sS --fail --location --proto '=https' --tlsv1.2 -m 300 -o "$file" "$PACKAGE_URL" ||
		die "cannot download $PACKAGE_URL" ;;
	esac
	got=$(sha256sum "$file" | cut -d' ' -f1)
	if [ "$got" != "$want" ]; then
		rm -f "$file"
		die "package checksum mismatch: $PACKAGE_URL has sha256 $got, expected $want; not installing it"
	fi
	log "package sha256 verified ($got)"
	chmod 0644 "$file"
	case $kind in
	.rpm) dnf install -y -q "$file" || die "dnf install $file failed" ;;
	.deb) DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$file" ||
		die "apt-get install $file failed" ;;
	esac
	rm -f "$file"
	mkdir -p "$STATE_DIR"
	echo "$want" >"$STATE_DIR/package.sha256"
	changed=1
	log "package installed: $(chaos-agent --version)"
}

# Network faults need the sch_netem qdisc. Amazon Linux 2023 keeps it in
# kernel-modules-extra; the agent cannot load modules itself (its unit
# forbids it), so load it now and at every boot.
netem() {
	local conf=/etc/modules-load.d/chaos-agent.conf
	if ! modprobe sch_netem 2>/dev/null && command -v dnf >/dev/null; then
		log "sch_netem is not loadable; installing kernel-modules-extra-$(uname -r)"
		dnf install -y -q "kernel-modules-extra-$(uname -r)" || true
	fi
	if modprobe sch_netem 2>/dev/null || grep -q '^sch_netem ' /proc/modules 2>/dev/null; then
		if [ "$(cat "$conf" 2>/dev/null)" != sch_netem ]; then
			mkdir -p /etc/modules-load.d
			echo sch_netem >"$conf"
			chmod 0644 "$conf"
		fi
		log "sch_netem loaded: network faults available"
	else
		log "WARNING: sch_netem cannot be loaded on kernel $(uname -r): network faults" \
			"(latency, loss, corrupt, duplicate, reorder, rate, blackhole) will be unavailable"
	fi
}

# The key goes from the AWS CLI's standard output straight into a file made
# under umask 077 in /etc/chaos-agent: it is never an argument, never in an
# environment, never printed.
fetch_key() {
	local tmp
	mkdir -p /etc/chaos-agent
	tmp=$(mktemp /etc/chaos-agent/.agent.key.XXXXXX)
	if ! aws_cli ssm get-parameter --with-decryption --name "$KEY_PARAMETER" \
		--query Parameter.Value --output text >"$tmp" 2>"$tmp.err"; then
		# The error names the parameter and the reason, never a value.
		sed 's/^/  aws: /' "$tmp.err"
		rm -f "$tmp" "$tmp.err"
		die "cannot read the key from SSM parameter $KEY_PARAMETER (missing, or no ssm:GetParameter and kms:Decrypt for the instance role?)"
	fi
	rm -f "$tmp.err"
	# '<key-id> <hex>' lines, '#' comments; at least one key of >= 32 bytes.
	if ! grep -Eq '^[A-Za-z0-9_.-]{1,32}[[:space:]]+([0-9a-fA-F]{2}){32,}[[:space:]]*$' "$tmp" ||
		grep -Evq '^([[:space:]]*|#.*|[A-Za-z0-9_.-]{1,32}[[:space:]]+([0-9a-fA-F]{2}){32,}[[:space:]]*)$' "$tmp"; then
		rm -f "$tmp"
		die "SSM parameter $KEY_PARAMETER does not hold a key file ('<key-id> <hex>' lines, keys of at least 32 bytes; make one with chaosctl keygen --out -)"
	fi
	chown root:root "$tmp"
	install_file "$tmp" "$KEY" 0600
}

configure() {
	local addr tmp cidr
	addr=$LISTEN_ADDRESS
	if [ -z "$addr" ]; then
		addr=$(imds local-ipv4) || die "cannot read the private IPv4 address from instance metadata"
	fi
	[ -f "$CONF" ] || die "$CONF is missing: is the chaos-agent package installed?"
	tmp=$(mktemp /etc/chaos-agent/.agent.conf.XXXXXX)
	grep -v '^[[:space:]]*listen[[:space:]]*=' "$CONF" >"$tmp" || true
	echo "listen = $addr:$AGENT_PORT" >>"$tmp"
	install_file "$tmp" "$CONF" 0644

	# The agent's own IP firewall (systemd cgroup filter): the given CIDRs,
	# plus loopback and the instance and task metadata endpoints it calls.
	if [ -n "$ALLOWED_CIDRS" ]; then
		mkdir -p "$DROPIN_DIR"
		tmp=$(mktemp "$DROPIN_DIR/.allowed.XXXXXX")
		{
			echo "# Written by the chaos-agent user data: who may reach the agent."
			echo "[Service]"
			echo "IPAddressDeny=any"
			echo "IPAddressAllow=localhost 169.254.169.254/32 169.254.170.2/32"
			for cidr in $ALLOWED_CIDRS; do
				echo "IPAddressAllow=$cidr"
			done
		} >"$tmp"
		install_file "$tmp" "$DROPIN" 0644
	elif [ -f "$DROPIN" ]; then
		rm -f "$DROPIN"
		changed=1
		log "$DROPIN removed (no allowed_cidrs)"
	fi
	chaos-agent -n || die "chaos-agent rejects its configuration or key (see above)"
}

start_agent() {
	local i
	systemctl daemon-reload
	systemctl enable "$UNIT" >/dev/null 2>&1 || die "systemctl enable $UNIT failed"
	if [ "$changed" = 1 ] || ! systemctl --quiet is-active "$UNIT"; then
		log "starting chaos-agent"
		systemctl reset-failed "$UNIT" >/dev/null 2>&1 || true
		systemctl restart "$UNIT" || die "chaos-agent did not start: $(systemctl status "$UNIT" --no-pager -n 5 2>&1 | tail -5)"
	else
		log "chaos-agent already running with this configuration"
	fi
	for i in $(seq 1 30); do
		if curl -sS --fail -m 2 -o /dev/null "http://$(listen_addr)/v1/health" 2>/dev/null; then
			log "chaos-agent healthy on $(listen_addr) after $i s"
			return
		fi
		sleep 1
	done
	die "chaos-agent does not answer on http://$(listen_addr)/v1/health after 30 s"
}

listen_addr() {
	sed -n 's/^[[:space:]]*listen[[:space:]]*=[[:space:]]*//p' "$CONF" | tail -1
}

main() {
	log "start (package $PACKAGE_URL, cluster $ECS_CLUSTER)"
	check_inputs
	[ "$(id -u)" -eq 0 ] || die "must run as root"
	mkdir -p "$STATE_DIR"
	exec 9>"$STATE_DIR/lock"
	flock -w 300 9 || die "another run holds $STATE_DIR/lock"
	if [ -z "$AWS_REGION_NAME" ]; then
		AWS_REGION_NAME=$(imds placement/region) || die "cannot read the region from instance metadata"
	fi
	ecs_config
	install_package
	netem
	fetch_key
	configure
	start_agent
	log "done"
}

main
