#!/bin/sh
# chaos-agent-entrypoint: how the agent image starts chaos-agent.
#
# 1. The key file's text arrives in CHAOS_AGENT_KEY (ECS `secrets`, read
#    from the SSM SecureString by the ECS agent). It is written to
#    /run/chaos-agent/agent.key, mode 0600, only if that directory is a
#    tmpfs (the task definition mounts one), so the key never reaches a
#    disk; the variable is not passed on to the agent.
# 2. The agent listens on CHAOS_AGENT_LISTEN (ADDRESS:PORT) when set, or
#    else on the host's own IPv4 address (the source address of its route
#    to the instance metadata service, as the user data's private address)
#    and CHAOS_AGENT_PORT (default 8421).
# Arguments are passed on to chaos-agent (e.g. --set log_level=debug).
set -eu

run=/run/chaos-agent
key=$run/agent.key

die() {
	echo "chaos-agent-entrypoint: $*" >&2
	exit 1
}

if [ -n "${CHAOS_AGENT_KEY:-}" ]; then
	[ "$(stat -f -c %T "$run" 2>/dev/null)" = tmpfs ] ||
		die "$run is not a tmpfs: refusing to write the key to the container's disk (the task definition mounts a tmpfs there)"
	# printf is the shell's own: the key is never an argument of a process.
	(
		umask 077
		printf '%s\n' "$CHAOS_AGENT_KEY" >"$key.new"
	)
	mv -f "$key.new" "$key"
fi
unset CHAOS_AGENT_KEY

listen=${CHAOS_AGENT_LISTEN:-}
if [ -z "$listen" ]; then
	addr=$(ip -4 route get 169.254.169.254 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
	[ -n "$addr" ] || die "no IPv4 route to take the host's address from: set CHAOS_AGENT_LISTEN=ADDRESS:PORT"
	listen=$addr:${CHAOS_AGENT_PORT:-8421}
fi
exec /usr/sbin/chaos-agent --listen "$listen" "$@"
