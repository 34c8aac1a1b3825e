# labsetup.sh — the common start of the NAT lab's tests, sourced right after `set -euo
# pipefail` as `source labsetup.sh NAME TOOL...`: the binaries (CALNETD, CALNETCTL,
# CALNET_SERVER, default the release build), $tag, $tmp, the pids=() and namespaces=() that
# lab_cleanup removes on exit (trap set here), checks.sh and natlab.sh; then it refuses to run
# without root, a binary, iptables or one of the TOOLs (named in the message as NAME).
lab_name=$1
shift
lab_here=$(dirname "${BASH_SOURCE[0]}")
umask 022
CALNETD=$(readlink -f "${CALNETD:-$lab_here/../../build/release/helper/calnetd}")
CALNETCTL=$(readlink -f "${CALNETCTL:-$lab_here/../../build/release/app/calnetctl}")
CALNET_SERVER=$(readlink -f "${CALNET_SERVER:-$lab_here/../../build/release/server/calnet-server}")
tag=$$
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
namespaces=()

# shellcheck source=checks.sh
source "$lab_here/checks.sh"
# shellcheck source=natlab.sh
source "$lab_here/natlab.sh"
trap lab_cleanup EXIT
trap 'exit 1' INT TERM

[[ $(id -u) -eq 0 ]] || { echo "$lab_name: needs root" >&2; exit 1; }
for f in "$CALNETD" "$CALNETCTL" "$CALNET_SERVER"; do
  [[ -x $f ]] || { echo "$lab_name: missing $f" >&2; exit 1; }
done
for tool in iptables "$@"; do
  command -v "$tool" >/dev/null || { echo "$lab_name: needs $tool (scripts/install-deps.sh --test)" >&2; exit 1; }
done
