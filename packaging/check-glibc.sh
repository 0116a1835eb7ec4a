#!/usr/bin/env bash
# Fail when an ELF file needs a glibc symbol version newer than MAX.
#
#   packaging/check-glibc.sh MAX FILE...        e.g. check-glibc.sh 2.31 bin/*
#
# Reads the dynamic symbol table with readelf (objdump -T shows the same,
# but only for the host's architecture; readelf reads any ELF) and prints,
# per file, the highest GLIBC_x.y it needs; over MAX it names the symbols
# that need the newer versions and exits 1.
set -euo pipefail

die() {
	echo "check-glibc: $*" >&2
	exit 2
}

[ $# -ge 2 ] || die "usage: packaging/check-glibc.sh MAX FILE..."
max=$1
shift
[[ $max =~ ^2\.[0-9]+$ ]] || die "MAX '$max' is not a glibc version such as 2.31"
command -v readelf >/dev/null || die "readelf is missing (binutils)"

# newer A B: is version A (2.x[.y]) newer than B?
newer() {
	[ "$1" != "$2" ] && [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | tail -1)" = "$1" ]
}

fail=0
for f in "$@"; do
	[ -f "$f" ] || die "'$f' is not a file"
	# Undefined dynamic symbols with their version: "name@GLIBC_2.17 (2)".
	syms=$(readelf -W --dyn-syms "$f" | awk '$7 == "UND" && $8 ~ /@GLIBC_[0-9.]+/ {
		split($8, p, "@"); v = p[2]; sub(/^GLIBC_/, "", v); print v, p[1] }')
	[ -n "$syms" ] || die "'$f' needs no versioned glibc symbol: not a dynamic glibc binary?"
	high=$(cut -d' ' -f1 <<<"$syms" | sort -V | tail -1)
	if newer "$high" "$max"; then
		echo "check-glibc: $f needs GLIBC_$high, newer than $max:" >&2
		while read -r v s; do
			if newer "$v" "$max"; then
				echo "  $s@GLIBC_$v" >&2
			fi
		done <<<"$syms"
		fail=1
	else
		echo "check-glibc: $f: highest glibc symbol GLIBC_$high (<= $max)"
	fi
done
exit "$fail"
