#!/usr/bin/env bash
# Install the loaxa edge agent on a fresh Raspberry Pi OS Lite (Bookworm) image.
# Each step is explained in firmware_notes/README.md; run with --dry-run to see every command first.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: sudo firmware_notes/install.sh --config agent.toml [options]

  --config FILE     the device's agent.toml from `loaxa device add` (required)
  --ca FILE         the broker's CA certificate (for an mqtts:// broker URL), installed as /etc/loaxa/ca.pem
  --source DIR      the loaxa source tree to install (default: the repository holding this script)
  --modem           also set up a 4G USB modem (ModemManager + NetworkManager), see --apn
  --apn NAME        the SIM's APN for --modem (e.g. m3-world for Viettel, m-wap for MobiFone)
  --overlay         make the root filesystem read-only (overlayfs); /var/lib/loaxa must be its own partition
  --dry-run         print what would be done, change nothing (root not needed)
  -h, --help        this help
USAGE
}

CONFIG=""
CA=""
SOURCE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MODEM=0
APN=""
OVERLAY=0
DRY_RUN=0
PREFIX=/opt/loaxa
ETC=/etc/loaxa
DATA=/var/lib/loaxa

die() {
    echo "install.sh: $*" >&2
    exit 1
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --config) CONFIG="${2:?--config needs a file}"; shift 2 ;;
        --ca) CA="${2:?--ca needs a file}"; shift 2 ;;
        --source) SOURCE="${2:?--source needs a directory}"; shift 2 ;;
        --modem) MODEM=1; shift ;;
        --apn) APN="${2:?--apn needs a name}"; shift 2 ;;
        --overlay) OVERLAY=1; shift ;;
        --dry-run) DRY_RUN=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die "unknown option $1" ;;
    esac
done

[[ -n "$CONFIG" ]] || { usage >&2; die "--config is required (write it with: loaxa device add ID --output agent.toml)"; }
[[ -f "$CONFIG" ]] || die "config file $CONFIG does not exist"
[[ -z "$CA" || -f "$CA" ]] || die "CA certificate $CA does not exist"
[[ "$MODEM" == 0 || -n "$APN" ]] || die "--modem needs --apn NAME (ask the SIM's operator)"
[[ "$DRY_RUN" == 1 || "$EUID" == 0 ]] || die "run as root (sudo), or with --dry-run"

# Every change goes through run, so --dry-run shows exactly what a real run does.
run() {
    if [[ "$DRY_RUN" == 1 ]]; then
        printf '+ %s\n' "$*"
    else
        "$@"
    fi
}

step() {
    printf '\n== %s\n' "$*"
}

step "1. system packages: audio players, ALSA tools, GPIO, clock keeping"
run apt-get update
run apt-get install -y --no-install-recommends \
    python3 python3-venv python3-pip python3-lgpio mpg123 alsa-utils \
    systemd-timesyncd fake-hwclock ca-certificates
if [[ "$MODEM" == 1 ]]; then
    run apt-get install -y --no-install-recommends modemmanager network-manager usb-modeswitch
fi

step "2. the loaxa user (audio for ALSA, gpio for the amplifier relay)"
if ! id loaxa >/dev/null 2>&1; then
    run useradd --system --home-dir "$DATA" --shell /usr/sbin/nologin loaxa
fi
for group in audio gpio; do
    if getent group "$group" >/dev/null; then
        run usermod -aG "$group" loaxa
    fi
done

step "3. the agent in its own virtualenv (system site packages for lgpio)"
run python3 -m venv --system-site-packages "$PREFIX/venv"
run "$PREFIX/venv/bin/pip" install --upgrade pip
run "$PREFIX/venv/bin/pip" install "${SOURCE}[edge]"
run install -d -m 0755 "$PREFIX/firmware_notes"
run install -m 0644 "$SOURCE/firmware_notes/README.md" "$PREFIX/firmware_notes/README.md"

step "4. configuration, CA certificate and data directories"
run install -d -m 0750 -o root -g loaxa "$ETC"
run install -m 0640 -o root -g loaxa "$CONFIG" "$ETC/agent.toml"
if [[ -n "$CA" ]]; then
    run install -m 0644 "$CA" "$ETC/ca.pem"
fi
run install -d -m 0750 -o loaxa -g loaxa "$DATA" "$DATA/state" "$DATA/cache"

step "5. clock: NTP and a saved clock across power cuts (kept on the data partition)"
run timedatectl set-ntp true
# fake-hwclock keeps the time in /etc/fake-hwclock.data. A FILE= line in /etc/default/fake-hwclock (the old
# step edited one that Debian 12 does not ship) reaches only the unit, not the hourly `fake-hwclock save`
# from cron; a symlink moves the file to the data partition for every caller, also under a read-only root.
if [[ ! -L /etc/fake-hwclock.data ]]; then
    if [[ -f /etc/fake-hwclock.data ]]; then
        run install -m 0644 /etc/fake-hwclock.data "$DATA/fake-hwclock.data"
    fi
    run ln -sf "$DATA/fake-hwclock.data" /etc/fake-hwclock.data
fi
run systemctl enable fake-hwclock.service systemd-timesyncd.service

if [[ "$MODEM" == 1 ]]; then
    step "6. 4G modem: a NetworkManager GSM connection that always reconnects"
    run systemctl enable --now ModemManager.service NetworkManager.service
    run nmcli connection add type gsm ifname '*' con-name loaxa-4g apn "$APN" \
        connection.autoconnect yes connection.autoconnect-retries 0 ipv4.route-metric 700
fi

step "7. check the configuration, then the systemd unit with watchdog"
# A broken config would make the service restart forever: refuse it here, before enabling anything.
run "$PREFIX/venv/bin/loaxa" agent --check --config "$ETC/agent.toml"
run install -m 0644 "$SOURCE/firmware_notes/loaxa-agent.service" /etc/systemd/system/loaxa-agent.service
run systemctl daemon-reload
run systemctl enable --now loaxa-agent.service

if [[ "$OVERLAY" == 1 ]]; then
    step "8. read-only root (overlayfs); the data partition stays writable"
    if [[ "$DRY_RUN" == 0 ]] && ! mountpoint -q "$DATA"; then
        die "$DATA is not a separate partition: with a read-only root the plan and cache would vanish at reboot (README.md, 'Read-only root')"
    fi
    run raspi-config nonint do_overlayfs 0
    echo "reboot to make the root read-only"
fi

step "done: follow the agent with  journalctl -u loaxa-agent -f"
