#!/usr/bin/env bash
# End-to-end test of examples/http_service with a real HTTP client (curl) on 127.0.0.1:
# MISS then HIT with an age, bypass, invalidate by name (and an unknown name), stats and metrics
# (the metrics also through promtool). Usage: e2e_test.sh PATH/TO/http_service
set -euo pipefail
bin=$1
fail() { echo "FAIL: $*" >&2; exit 1; }

# Start the server on a free port; its first line says which. Read it from a pipe (no polling).
coproc SERVER { exec "$bin" 0; }
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT
read -r -t 60 line <&"${SERVER[0]}" || fail "server did not start"
port=${line##*:}
[[ $port =~ ^[0-9]+$ ]] || fail "unexpected first line: $line"
base="http://127.0.0.1:$port"
echo "server up on $base"

header() { grep -i "^$1:" | head -n1 | cut -d: -f2- | tr -d ' \r'; }
get() { curl -sS --max-time 30 -D "$tmp/headers" -o "$tmp/body" "$base$1"; }
tmp=$(mktemp -d)
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; rm -rf "$tmp"' EXIT

get "/expensive?n=10"
[[ $(header X-Cache < "$tmp/headers") == MISS ]] || fail "first call should MISS"
[[ $(tr -d '\n' < "$tmp/body") == 55 ]] || fail "fib(10) should be 55, got $(cat "$tmp/body")"
get "/expensive?n=10"
[[ $(header X-Cache < "$tmp/headers") == HIT ]] || fail "second call should HIT"
age=$(header X-Cache-Age < "$tmp/headers")
[[ $age =~ ^[0-9]+$ ]] || fail "X-Cache-Age should be a number of seconds, got '$age'"
echo "MISS then HIT (age ${age}s): ok"

get "/expensive?n=10&use_cache=false"
[[ $(header X-Cache < "$tmp/headers") == MISS ]] || fail "use_cache=false should not be a HIT"
get "/cache/stats"
grep -q '"name":"expensive","kind":"memoizer"' "$tmp/body" || fail "stats lack the memoizer"
grep -q '"memo":{"hits":1,"misses":1,"loads":2,' "$tmp/body" ||
  fail "bypass should have run fn a second time: $(cat "$tmp/body")"
echo "bypass: ok"

code=$(curl -sS --max-time 30 -o "$tmp/body" -w '%{http_code}' -d '' "$base/cache/invalidate?name=expensive")
[[ $code == 200 ]] || fail "invalidate by name: HTTP $code"
get "/expensive?n=10"
[[ $(header X-Cache < "$tmp/headers") == MISS ]] || fail "after invalidate the call should MISS"
code=$(curl -sS --max-time 30 -o "$tmp/body" -w '%{http_code}' -d '' "$base/cache/invalidate?name=nope")
[[ $code == 404 ]] || fail "invalidating an unknown cache should be 404, got $code"
code=$(curl -sS --max-time 30 -o "$tmp/body" -w '%{http_code}' -d '' "$base/cache/invalidate")
[[ $code == 200 ]] && grep -q '"invalidated":5' "$tmp/body" || fail "invalidate all: $(cat "$tmp/body")"
echo "invalidate by name / unknown / all: ok"

get "/cache/stats"
for name in task_status worker_status health expensive sessions; do
  grep -q "\"name\":\"$name\"" "$tmp/body" || fail "stats lack $name"
done
grep -q '"summary":{"caches":5,' "$tmp/body" || fail "stats summary: $(cat "$tmp/body")"
get "/metrics"
grep -q 'cache_gets_total{cache="expensive",result="hit"} 1' "$tmp/body" || fail "metrics lack hits"
grep -q 'cache_load_total{cache="expensive",result="success"} 3' "$tmp/body" || fail "metrics lack loads"
promtool check metrics < "$tmp/body" || fail "promtool rejects /metrics"
echo "stats and metrics: ok"

get "/health"
grep -q '"status":"ok","backend":{"kind":"memory","version":"","keys":1,' "$tmp/body" ||
  fail "health: $(cat "$tmp/body")"
grep -q '"ping_us":[0-9]' "$tmp/body" || fail "health lacks the ping: $(cat "$tmp/body")"
echo "health: ok"

get "/session?id=s1"
[[ $(header X-Cache < "$tmp/headers") == MISS ]] || fail "a new session should MISS"
get "/session?id=s1"
[[ $(header X-Cache < "$tmp/headers") == HIT-L1 ]] || fail "the second read should HIT-L1"
grep -q '"session":"s1"' "$tmp/body" || fail "session body: $(cat "$tmp/body")"
code=$(curl -sS --max-time 30 -o "$tmp/body" -w '%{http_code}' -d '' "$base/cache/invalidate?name=sessions")
[[ $code == 200 ]] || fail "invalidate sessions: HTTP $code"
get "/session?id=s1"
[[ $(header X-Cache < "$tmp/headers") == MISS ]] || fail "after invalidate (both tiers) it should MISS"
get "/metrics"
grep -q 'larder_remote_gets_total{cache="sessions",result="miss"}' "$tmp/body" ||
  fail "metrics lack the tiered cache's L2 gets"
echo "session tiers (MISS, HIT-L1, invalidated): ok"
echo "e2e: all checks passed"
