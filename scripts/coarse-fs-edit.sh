#!/bin/bash
# An editor's save in the second pq read the file in, on a file system that keeps whole
# seconds (ext2 with 128-byte inodes): the save keeps the file's size, mtime, ctime and inode,
# so only reading the file tells it from pq's version. Each attempt pushes a patch at the start
# of a second and pops it at once, an "editor" rewriting the patch's file (same size) between
# the pop's plan and its write (PQ_FAILPOINT=planned:sh); the edit must end up in the tree or
# in .pq/backups. Needs root (a loop mount).
#
#   sudo bash scripts/coarse-fs-edit.sh [ATTEMPTS=3] [PQ=bin/pq]
set -euo pipefail
attempts=${1:-3}
pq=$(realpath "${2:-$(dirname "$0")/../bin/pq}")
work=$(mktemp -d /tmp/pq-coarse-fs-XXXXXX)
trap 'cd /; umount "$work/mnt" 2>/dev/null || true; rm -rf "$work"' EXIT
dd if=/dev/zero of="$work/img" bs=1M count=32 status=none
mkfs.ext2 -q -I 128 "$work/img" >/dev/null 2>&1
mkdir "$work/mnt"
mount -o loop "$work/img" "$work/mnt"
lost=0
for i in $(seq "$attempts"); do
  dir="$work/mnt/r$i"
  mkdir "$dir"
  cd "$dir"
  git init -q -b main . && git config user.email tester@example.org && git config user.name Tester
  printf 'base line\n' >a.c && git add a.c && git commit -qm base
  "$pq" init >/dev/null && "$pq" new p1.patch >/dev/null
  printf 'p1 change\n' >a.c && "$pq" refresh >/dev/null && "$pq" pop >/dev/null
  # The start of a second: the push, the pop's plan and the save all fall in it.
  python3 -c 'import time; time.sleep(1 - time.time() % 1 + 0.01)'
  "$pq" push >/dev/null
  PQ_FAILPOINT=planned:sh PQ_FAILPOINT_SH="printf 'EDITED!!!\n' > a.c" "$pq" pop >"$work/out" 2>&1 || true
  if grep -q EDITED a.c || grep -rqs EDITED .pq/backups; then echo "attempt $i: the edit was kept"; else
    echo "attempt $i: the edit was LOST"
    lost=$((lost + 1))
  fi
done
[ "$lost" = 0 ]
