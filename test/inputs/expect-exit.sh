#!/usr/bin/env bash
# expect-exit.sh CODE COMMAND...: runs COMMAND, passing its output through,
# and succeeds only if it exits with exactly CODE (a crash never does).
want=$1
shift
"$@"
got=$?
if [[ $got -ne $want ]]; then
  echo "expect-exit: '$1' exited with $got, expected $want" >&2
  exit 1
fi
