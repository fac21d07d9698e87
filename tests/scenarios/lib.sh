# Shared by the scenario scripts (source it): a temp working folder removed on exit, `check`, and `finish`.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
failures=0
pass=0

check() {  # check NAME EXPECTED_STATUS PATTERN -- command...
  local name=$1 want=$2 pattern=$3
  shift 4
  local out status
  out=$("$@" 2>&1)
  status=$?
  if [ "$status" -ne "$want" ] || ! grep -qE -- "$pattern" <<<"$out"; then
    echo "FAIL $name: status $status (want $want), output:"
    echo "$out" | head -30
    failures=$((failures + 1))
  else
    pass=$((pass + 1))
  fi
}

finish() {  # the summary line; the script's exit status
  echo "$pass passed, $failures failed"
  [ "$failures" -eq 0 ]
}
