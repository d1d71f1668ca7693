#!/bin/sh
# Starts a tsgpu kernel: from its start-up snapshot when one was built for this node binary under
# these NODE_OPTIONS and is intact (kernel/startup/snapshot-build.ts), and the last start from it
# did not crash; else as a plain start. Either way the kernel
# replaces this shell (exec), so Jupyter's signals reach it.
# The snapshot is the user's own, in their cache (as snapshot-build.ts's snapshotDir names it).
#   launch-kernel.sh NODE CLI SNAPSHOT_KEY CONNECTION_FILE
node=$1 cli=$2 key=$3 connection=$4
root=${TSGPU_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tsgpu}
dir=$root/snapshot-$key
TSGPU_SNAPSHOT_DIR=$dir
export TSGPU_SNAPSHOT_DIR
# glibc gives each thread that mallocs an arena of its own (the protocol worker, V8's and libuv's
# helpers) and keeps freed memory mapped: two arenas and an earlier trim took RSS after warm-up
# from 177 to 159 MiB in one measurement (node run with --max-semi-space-size=4 in both).
# A user's own setting wins.
# The kernel takes the ones set here out of its environment once started (glibc has read them),
# so that cells and the processes they start see the user's environment as it was.
TSGPU_MALLOC_DEFAULTS=
[ -z "${MALLOC_ARENA_MAX+set}" ] && MALLOC_ARENA_MAX=2 && export MALLOC_ARENA_MAX && TSGPU_MALLOC_DEFAULTS="MALLOC_ARENA_MAX"
[ -z "${MALLOC_TRIM_THRESHOLD_+set}" ] && MALLOC_TRIM_THRESHOLD_=131072 && export MALLOC_TRIM_THRESHOLD_ && TSGPU_MALLOC_DEFAULTS="$TSGPU_MALLOC_DEFAULTS MALLOC_TRIM_THRESHOLD_"
# A start from the blob reads its 21 MB into memory and copies it before V8 reads it: with glibc
# asking for transparent huge pages there (where the system gives them on request, as Debian's
# does), those copies fault in 2 MB pages, not 4 KB ones, and a start took 0.29 s to its first
# code, not 0.44 s (RSS after warm-up unchanged: 129.6 MiB against 128.8).
[ -z "${GLIBC_TUNABLES+set}" ] && GLIBC_TUNABLES=glibc.malloc.hugetlb=1 && export GLIBC_TUNABLES && TSGPU_MALLOC_DEFAULTS="$TSGPU_MALLOC_DEFAULTS GLIBC_TUNABLES"
export TSGPU_MALLOC_DEFAULTS
# identity's second line: the NODE_OPTIONS the blob was built under. They may hold V8 flags, and
# node refuses a blob under V8 flags other than its build's (the start dies): they must be the same.
# An older identity has none: its blob is used only where there are none.
options=
if [ -r "$dir/identity" ] && { read -r expected && { IFS= read -r options || :; }; } < "$dir/identity"; then
  # Unquoted: the two lines stat prints become one, as identity holds them.
  actual=$(echo $(stat -L -c '%d:%i:%s:%Y' "$node" "$dir/kernel.blob" 2>/dev/null))
  if [ "$actual" = "$expected" ] && [ "$options" = "${NODE_OPTIONS-}" ]; then
    # A blob damaged in place (size and mtime kept) passes that check, and node aborts on it at
    # every start. So each start from the blob leaves start-PID behind (PID is this shell's, which
    # exec gives to node) until the kernel's first code removes it (snapshot-entry.ts). One left by
    # a process that is gone is a start that never got that far: this start goes without the blob,
    # and the kernel says so and rebuilds it (snapshot-build.ts). One whose process lives is a start
    # under way (two kernels starting at once). Costs a directory read and one empty file per start.
    failed=
    for attempt in "$dir"/start-*; do
      pid=${attempt##*/start-}
      case $pid in '' | *[!0-9]*) continue ;; esac
      kill -0 "$pid" 2>/dev/null || { failed=$attempt; break; }
    done
    if [ -z "$failed" ]; then
      # Unrecorded (an unwritable cache), a start could not be told from a crash: go without it.
      if true 2>/dev/null > "$dir/start-$$"; then
        exec "$node" --snapshot-blob "$dir/kernel.blob" kernel "$connection"
      fi
    else
      TSGPU_SNAPSHOT_FAILED=$failed
      export TSGPU_SNAPSHOT_FAILED
    fi
  fi
fi
exec "$node" "$cli" kernel "$connection"
