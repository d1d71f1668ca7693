#!/bin/sh
# Starts a tsgpu kernel: from its start-up snapshot when one was built for this node binary and
# is intact (kernel/startup/snapshot-build.ts), else as a plain start. Either way the kernel
# replaces this shell (exec), so Jupyter's signals reach it.
# The snapshot is the user's own, in their cache (as snapshot-build.ts's snapshotDir names it).
#   launch-kernel.sh NODE CLI SNAPSHOT_KEY CONNECTION_FILE
node=$1 cli=$2 key=$3 connection=$4
root=${TSGPU_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tsgpu}
dir=$root/snapshot-$key
TSGPU_SNAPSHOT_DIR=$dir
export TSGPU_SNAPSHOT_DIR
if [ -r "$dir/identity" ] && read -r expected < "$dir/identity"; then
  # Unquoted: the two lines stat prints become one, as identity holds them.
  actual=$(echo $(stat -L -c '%d:%i:%s:%Y' "$node" "$dir/kernel.blob" 2>/dev/null))
  if [ "$actual" = "$expected" ]; then
    exec "$node" --snapshot-blob "$dir/kernel.blob" kernel "$connection"
  fi
fi
exec "$node" "$cli" kernel "$connection"
