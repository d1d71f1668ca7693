#!/usr/bin/env bash
# Install the system packages tsgpu's build, tests and GPU path need. Debian bookworm, run as root.
# Idempotent: safe to run again; prints how long each step took.
#
#   - Debian's Jupyter stack (clients the tests drive: jupyter_client, nbclient, nbconvert, servers,
#     and jupyterhub 3.0 with its jupyterhub-singleuser) and curl, without recommends. JupyterHub's
#     proxy, configurable-http-proxy, comes from npm (a devDependency).
#   - Mesa's lavapipe Vulkan driver + the Vulkan loader from bookworm-backports (25.x). Dawn (WebGPU)
#     refuses bookworm's own mesa 22.3, so the backports suite is added as a deb822 .sources file
#     with the same URIs and Signed-By keyring as the machine's main Debian source.
#   - Debian's chromium, the headless browser test/clients/notebook-ui.test.ts drives through
#     playwright-core (executablePath /usr/bin/chromium; `npx playwright install` cannot download here).
set -euo pipefail

if [[ $(id -u) -ne 0 ]]; then
  echo "install-system-deps.sh: must run as root (apt-get)" >&2
  exit 1
fi
if ! grep -q '^VERSION_CODENAME=bookworm' /etc/os-release 2>/dev/null; then
  echo "install-system-deps.sh: warning: written for Debian bookworm; this is $(. /etc/os-release && echo "${PRETTY_NAME:-unknown}")" >&2
fi

export DEBIAN_FRONTEND=noninteractive
APT=(apt-get -o DPkg::Lock::Timeout=300 -o Acquire::Retries=3)
JUPYTER_PKGS=(python3-ipykernel python3-jupyter-client jupyter-client python3-nbclient
              jupyter-nbconvert jupyter-notebook python3-jupyter-server jupyterhub curl)
GPU_PKGS=(mesa-vulkan-drivers libvulkan1)
BROWSER_PKGS=(chromium)
BACKPORTS_FILE=/etc/apt/sources.list.d/tsgpu-bookworm-backports.sources

now_ms() { date +%s%3N; }
T_ALL=$(now_ms)
step() { echo "[install-system-deps] $1: $(( $(now_ms) - $2 )) ms"; }

# --- find the main Debian source: URIs and Signed-By ------------------------------------------
# deb822 files first (stanza whose Suites include plain "bookworm"), then one-line sources.list.
main_uri="" main_key=""
read_deb822() {
  local f=$1
  awk '
    function flush() {
      if (suites ~ /(^|[ \t])bookworm([ \t]|$)/ && types ~ /(^|[ \t])deb([ \t]|$)/ && uris != "" && !found) {
        print uris "\t" key; found = 1
      }
      types = ""; uris = ""; suites = ""; key = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    { line = $0; sub(/^[^:]*:[ \t]*/, "", line); field = tolower($1) }
    field == "types:"     { types = line }
    field == "uris:"      { uris = line }
    field == "suites:"    { suites = line }
    field == "signed-by:" { key = line }
    END { flush() }
  ' "$f"
}
for f in /etc/apt/sources.list.d/*.sources; do
  [[ -f $f && $f != "$BACKPORTS_FILE" ]] || continue
  hit=$(read_deb822 "$f")
  if [[ -n $hit ]]; then
    main_uri=${hit%%$'\t'*}
    main_key=${hit#*$'\t'}
    break
  fi
done
if [[ -z $main_uri ]]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f $f ]] || continue
    # deb [signed-by=KEY ...] URI bookworm main ...
    line=$(grep -E '^[[:space:]]*deb[[:space:]].*[[:space:]]bookworm([[:space:]]|$)' "$f" | head -n1 || true)
    [[ -n $line ]] || continue
    if [[ $line =~ signed-by=([^][:space:]]+) ]]; then main_key=${BASH_REMATCH[1]}; fi
    line=$(sed -E 's/\[[^]]*\]//' <<<"$line")
    main_uri=$(awk '{print $2}' <<<"$line")
    break
  done
fi
: "${main_uri:=http://deb.debian.org/debian}"
: "${main_key:=/usr/share/keyrings/debian-archive-keyring.gpg}"

# --- bookworm-backports suite -----------------------------------------------------------------
want=$(cat <<EOF
# Added by tsgpu scripts/install-system-deps.sh: Mesa 25.x (lavapipe) for WebGPU through Dawn.
Types: deb
URIs: $main_uri
Suites: bookworm-backports
Components: main
Signed-By: $main_key
EOF
)
other=""
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [[ -f $f && $f != "$BACKPORTS_FILE" ]] || continue
  if grep -v '^[[:space:]]*#' "$f" | grep -qE '(^|[[:space:]])bookworm-backports([[:space:]]|$)'; then other=$f; fi
done
if [[ -n $other ]]; then
  echo "[install-system-deps] bookworm-backports already configured in $other"
  rm -f "$BACKPORTS_FILE"
elif [[ -f $BACKPORTS_FILE && "$(cat "$BACKPORTS_FILE")" == "$want" ]]; then
  echo "[install-system-deps] $BACKPORTS_FILE already present"
else
  printf '%s\n' "$want" >"$BACKPORTS_FILE"
  echo "[install-system-deps] wrote $BACKPORTS_FILE (URIs: $main_uri, Signed-By: $main_key)"
fi

# --- apt ----------------------------------------------------------------------------------------
T=$(now_ms)
"${APT[@]}" update -qq
step "apt-get update" "$T"

T=$(now_ms)
"${APT[@]}" install -y -qq --no-install-recommends "${JUPYTER_PKGS[@]}" >/dev/null
step "apt-get install Jupyter stack + curl (${#JUPYTER_PKGS[@]} packages)" "$T"

# Debian's jupyterhub package enables a system hub (root, PAM logins, every interface, port 8000) at
# boot. The tests start hubs of their own on 127.0.0.1; a machine set up for them needs no such service.
if [[ -e /etc/systemd/system/multi-user.target.wants/jupyterhub.service ]]; then
  systemctl disable --now jupyterhub.service >/dev/null 2>&1 || rm -f /etc/systemd/system/multi-user.target.wants/jupyterhub.service
  echo "[install-system-deps] disabled Debian's jupyterhub.service (tests run hubs of their own)"
fi

T=$(now_ms)
"${APT[@]}" install -y -qq --no-install-recommends -t bookworm-backports "${GPU_PKGS[@]}" >/dev/null
step "apt-get install -t bookworm-backports ${GPU_PKGS[*]}" "$T"

T=$(now_ms)
"${APT[@]}" install -y -qq --no-install-recommends "${BROWSER_PKGS[@]}" >/dev/null
step "apt-get install ${BROWSER_PKGS[*]}" "$T"

# --- report -------------------------------------------------------------------------------------
mesa=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || echo none)
vk=$(dpkg-query -W -f='${Version}' libvulkan1 2>/dev/null || echo none)
echo "[install-system-deps] mesa-vulkan-drivers $mesa, libvulkan1 $vk"
if [[ $mesa != 2[5-9].* && $mesa != [3-9][0-9].* ]]; then
  echo "[install-system-deps] error: mesa-vulkan-drivers $mesa is older than 25.x; Dawn refuses it" >&2
  exit 1
fi
if ! ls /usr/share/vulkan/icd.d/ 2>/dev/null | grep -q '^lvp_icd'; then
  echo "[install-system-deps] error: no lavapipe ICD (lvp_icd*.json) in /usr/share/vulkan/icd.d/" >&2
  exit 1
fi
echo "[install-system-deps] chromium $(dpkg-query -W -f='${Version}' chromium 2>/dev/null || echo none)"
/usr/bin/python3 -c "import jupyter_client, ipykernel, nbclient, nbconvert; print('[install-system-deps] jupyter_client', jupyter_client.__version__, '| ipykernel', ipykernel.__version__, '| nbclient', nbclient.__version__, '| nbconvert', nbconvert.__version__)"
/usr/bin/python3 -c "import jupyterhub, jupyter_server; print('[install-system-deps] jupyterhub', jupyterhub.__version__, '| jupyter_server', jupyter_server.__version__)"
step "total" "$T_ALL"
