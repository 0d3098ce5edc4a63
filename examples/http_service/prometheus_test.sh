#!/usr/bin/env bash
# A real Prometheus scrapes examples/http_service: the server and Prometheus (Debian's package) on
# free 127.0.0.1 ports, a scrape config pointing at the service, traffic, then queries through
# Prometheus's HTTP API: cache_gets_total, a hit-rate expression, and every query of the Grafana
# dashboard (grafana-dashboard.json): each must be valid PromQL, and each metric it names must be
# in the scraped data. Waits by polling with deadlines, never by sleeping a fixed time.
# Usage: prometheus_test.sh PATH/TO/http_service
set -euo pipefail
bin=$1
here=$(cd "$(dirname "$0")" && pwd)
dashboard="$here/grafana-dashboard.json"
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
prom_pid=
cleanup() {
  [ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$tmp"
}

coproc SERVER { exec "$bin" 0; }
trap cleanup EXIT
read -r -t 60 line <&"${SERVER[0]}" || fail "server did not start"
port=${line##*:}
[[ $port =~ ^[0-9]+$ ]] || fail "unexpected first line: $line"
base="http://127.0.0.1:$port"
traffic() {
  for n in 10 10 11 10 12 12; do curl -sS --max-time 30 -o /dev/null "$base/expensive?n=$n"; done
  for id in a a b a; do curl -sS --max-time 30 -o /dev/null "$base/session?id=$id"; done
}
traffic

cat > "$tmp/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: http_service
    static_configs:
      - targets: ['127.0.0.1:$port']
YAML
promtool check config "$tmp/prometheus.yml" >/dev/null || fail "promtool rejects the config"

# Prometheus cannot report a port it picked: try free-looking ports until one starts.
started=
for attempt in 1 2 3 4 5; do
  pport=$(( 20000 + (RANDOM * 32768 + RANDOM) % 40000 ))
  (exec 3<>"/dev/tcp/127.0.0.1/$pport") 2>/dev/null && continue  # taken
  prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data-$attempt" \
    --web.listen-address="127.0.0.1:$pport" --log.level=warn >"$tmp/prometheus.log" 2>&1 &
  prom_pid=$!
  deadline=$(( SECONDS + 60 ))
  while [ $SECONDS -lt $deadline ] && kill -0 "$prom_pid" 2>/dev/null; do
    if curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$pport/-/ready"; then started=1; break; fi
    sleep 0.2
  done
  [ -n "$started" ] && break
  kill "$prom_pid" 2>/dev/null || true
  wait "$prom_pid" 2>/dev/null || true
  prom_pid=
done
[ -n "$started" ] || fail "prometheus did not start: $(tail -5 "$tmp/prometheus.log")"
api="http://127.0.0.1:$pport/api/v1"
echo "prometheus up on 127.0.0.1:$pport, scraping $base"

# query EXPR: the JSON answer of an instant query.
query() { curl -sS --max-time 10 "$api/query" --data-urlencode "query=$1"; }
# await EXPR WHAT: polls (deadline 60 s) until EXPR has a result; prints its first value.
await() {
  local deadline=$(( SECONDS + 60 )) out
  while [ $SECONDS -lt $deadline ]; do
    out=$(query "$1")
    if [ "$(jq -r '.data.result | length' <<<"$out")" -gt 0 ]; then
      jq -r '.data.result[0].value[1]' <<<"$out"
      return 0
    fi
    sleep 0.5
  done
  fail "$2: no result for $1 (last answer: $out)"
}

hits=$(await 'cache_gets_total{cache="expensive",result="hit"}' "the first scrape")
[ "$hits" = 3 ] || fail "cache_gets_total hit for expensive should be 3, got $hits"
echo "scraped: cache_gets_total{cache=\"expensive\",result=\"hit\"} = $hits"

traffic  # more gets after the first scrape, so rates have two samples to differ by
rate='sum(rate(cache_gets_total{cache="expensive",result="hit"}[1m])) / sum(rate(cache_gets_total{cache="expensive"}[1m]))'
deadline=$(( SECONDS + 60 ))
ratio=
while [ $SECONDS -lt $deadline ]; do
  ratio=$(query "$rate" | jq -r '.data.result[0].value[1] // empty')
  [ -n "$ratio" ] && [ "$ratio" != NaN ] && break
  ratio=
  sleep 0.5
done
[ -n "$ratio" ] || fail "the hit-rate expression never had a value"
awk -v r="$ratio" 'BEGIN { exit !(r > 0 && r <= 1) }' || fail "hit rate $ratio is not in (0, 1]"
echo "hit rate over the last minute: $ratio"

# Every dashboard query: valid PromQL (with Grafana's variables filled in), and every metric it
# names present in the scraped data.
jq -e '.panels | length >= 8' "$dashboard" >/dev/null || fail "the dashboard lost panels"
while IFS= read -r expr; do
  q=${expr//\$__rate_interval/1m}
  q=${q//\$__range/1h}
  q=${q//\$cache/.*}
  status=$(query "$q" | jq -r '.status')
  [ "$status" = success ] || fail "dashboard query rejected by Prometheus: $q"
done < <(jq -r '.panels[].targets[].expr' "$dashboard")
metrics=$(jq -r '.panels[].targets[].expr' "$dashboard" | grep -oE '\b(cache|larder)_[a-z_]+' | sort -u)
for m in $metrics; do
  await "count($m)" "dashboard metric $m" >/dev/null
done
echo "dashboard: $(jq '[.panels[].targets[]] | length' "$dashboard") queries valid, \
$(wc -w <<<"$metrics") metrics present in the scrape"
echo "prometheus: all checks passed"
