#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# status_cli: the module discovers passthrough vectors of real VMs - one
# already running when it is loaded, one started after - follows route
# changes and VM exit, and `pisteer status` shows them.  Runs in the rig.
. "$(dirname "$0")/../lib/rigtest.sh" holder

mapfile -t bdfs < <(vfio_82574l_bdfs)

ktap_plan 25
if [ "${#bdfs[@]}" -lt 2 ]; then
	ktap_diag "needs two 82574Ls bound to vfio-pci, found ${#bdfs[@]}"
	ktap_skip_rest() { while [ "$__ktap_n" -lt 25 ]; do ktap_skip "$1"; done; }
	ktap_skip_rest "two 82574Ls"
	ktap_finish
fi
rmmod pisteer 2>/dev/null

# Holder A: a VM with the first 82574L, started before the module is loaded.
holder_start A "${bdfs[0]}"
pid_a=$A_pid

ktap_check "insmod pisteer.ko with a VM already running" insmod "$mods/kmod/pisteer.ko"

trace_start
route_log=$fifos/route_ms

# vcpu_of PID INDEX: the vCPU status --json reports for that vector.
json() { "$cli" status --json "$@"; }
routes() { json --vm "$1" | jq -r 'sort_by(.index) | map(.vcpu | tostring) | join(",")'; }

check_found() {
	local out n
	out=$(json --vm "$pid_a") || return 1
	n=$(jq length <<<"$out")
	[ "$n" -eq 5 ] || { echo "$n vectors for VM $pid_a"; return 1; }
	jq -e --arg d "${bdfs[0]}" --argjson p "$pid_a" '
		(map(.index) | sort) == [0, 1, 2, 3, 4] and all(.[]; .device == $d and .vm_pid == $p and .irq_type == "msix"
		    and .gsi == 32 + .index and .guest_vector == 64 + .index
		    and .mode == "remapped")' <<<"$out" >/dev/null
}
ktap_check "the running VM's 5 MSI-X vectors are found: device, pid, GSI, guest vector" check_found

check_host_irqs() {
	local i irq want
	for i in 0 1 2 3 4; do
		want=$(awk -v n="vfio-msix[$i](${bdfs[0]})" '$NF == n { sub(":", "", $1); print $1 }' /proc/interrupts)
		irq=$(json --vm "$pid_a" | jq ".[] | select(.index == $i) | .host_irq")
		[ -n "$want" ] && [ "$irq" = "$want" ] || { echo "vector $i: host IRQ $irq, /proc/interrupts $want"; return 1; }
	done
}
ktap_check "host IRQ numbers match /proc/interrupts" check_host_irqs

# What this kernel gives the module, as `pisteer version` reports it: the
# tracepoint only from 6.17 on, everything else on every supported kernel
# (the rig's CPU is AMD: the GA probe applies).
check_host_features() {
	local out tp_new major minor
	out=$("$cli" version --json) || return 1
	major=$(uname -r | cut -d. -f1)
	minor=$(uname -r | cut -d. -f2)
	tp_new=false
	[ "$major" -gt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -ge 17 ]; } && tp_new=true
	jq -e --arg k "$(uname -r)" --argjson tp "$tp_new" '.module as $m | $m.kernel == $k
		and $m.host.vm_files.active and $m.host.event_probes.active
		and $m.host.irte_probe.active and $m.host.ga_probe.active
		and $m.host.apicv_param.active
		and ($m.host.lat_probes.active | not) and $m.host.lat_probes.error == "ENODATA"
		and (if $tp then $m.host.pi_irte_tp.active
		     else $m.host.pi_irte_tp.error == "EOPNOTSUPP" end)' <<<"$out" >/dev/null ||
		{ echo "$out"; return 1; }
	"$cli" version | grep -q "^  apicv_param   active" || { "$cli" version; return 1; }
}
ktap_check "pisteer version: per kernel mechanism active or why not" check_host_features

# No KVM-internal symbol: the target from APIC IDs, APICv from kvm_amd's
# own parameter (N in the rig: nested SVM has no AVIC).
check_public_facts() {
	local out avic
	avic=$(cat /sys/module/kvm_amd/parameters/avic)
	[ "$avic" = N ] || { echo "kvm_amd avic=$avic"; return 1; }
	out=$(json --vm "$pid_a") || return 1
	jq -e 'length == 5 and all(.[]; .target_how == "apic_id" and .vcpu_unknown == null
		and .apicv_unknown == false and .reason == "no APICv/AVIC")' <<<"$out" >/dev/null ||
		{ echo "$out" | head -40; return 1; }
	# The rig's CPU is AMD, its IOMMU an emulated VT-d: the IR chip decides.
	grep -q AuthenticAMD /proc/cpuinfo || { echo "not an AMD CPU"; return 1; }
	jq -e 'all(.[]; .iommu_ir == "intel")' <<<"$out" >/dev/null ||
		{ echo "$out" | jq -c '[.[].iommu_ir]'; return 1; }
}
ktap_check "target by APIC ID, APICv off from kvm_amd avic=N, VT-d by the IR chip on an AMD CPU" \
	check_public_facts

check_vcpus() {
	local got tids t
	got=$(routes "$pid_a")
	[ "$got" = "0,1,0,1,0" ] || { echo "routes $got"; return 1; }
	tids=$(ls "/proc/$pid_a/task")
	for t in $(json --vm "$pid_a" | jq '.[].vcpu_tid'); do
		grep -qx "$t" <<<"$tids" || { echo "vcpu_tid $t is not a thread of $pid_a"; return 1; }
	done
}
ktap_check "target vCPUs follow the guest MSI routes (0,1,0,1,0), vCPU threads are the VM's" check_vcpus

check_reason() {
	local want="no APICv/AVIC"
	[ "$(cat /sys/module/kvm_amd/parameters/avic 2>/dev/null)" = N ] || return 1
	json --vm "$pid_a" | jq -e --arg r "$want" \
		'length == 5 and all(.[]; .reason == $r and .mode_inferred and .posted_state == null)' >/dev/null &&
		grep -q irq_set_vcpu_affinity /sys/kernel/debug/kprobes/list &&
		grep -q amd_iommu_update_ga /sys/kernel/debug/kprobes/list
}
ktap_check "mode: remapped, reason 'no APICv/AVIC' (kvm_amd avic=N here); no IRTE update observed; IRTE and AVIC IsRun probes in place (AMD CPU)" check_reason

vm_a=$(json --vm "$pid_a" | jq -r '.[0].vm')
check_reroute() {
	# The module sees the new routes at once (each read scans); the
	# probes emit the events by themselves, nobody asking.
	reroute_within A "$pid_a" 100 1 0 1 0 1 &&
		wait_trace vector_update "$vm_a" 5 || return 1
	got=$(routes "$pid_a")
	[ "$got" = "1,0,1,0,1" ] || { echo "status: routes after reroute $got"; return 1; }
}
ktap_check "a guest MSI reprogram is visible within 100 ms, pisteer:vector_update per vector by itself; status follows (1,0,1,0,1)" \
	check_reroute
ktap_diag "reroute visible after $(cat "$route_log") ms"

check_debugfs() {
	local f=/sys/kernel/debug/pisteer/vectors
	[ "$(stat -c %a "$f")" = 400 ] || return 1
	[ "$(grep -c "^ *$pid_a-" "$f")" -eq 5 ] || { cat "$f"; return 1; }
}
ktap_check "debugfs pisteer/vectors lists the VM's 5 vectors (mode 0400)" check_debugfs

# Holder B: a second VM with the second 82574L, started after load.
holder_start B "${bdfs[1]}"
pid_b=$B_pid
vm_b=$(vm_id "$pid_b")
ktap_check "a VM wiring up its vectors emitted pisteer:vector_add for each" \
	wait_trace vector_add "$vm_b" 5

check_two() {
	local all
	all=$(json | jq length)
	[ "$all" -eq 10 ] || { echo "$all vectors in all"; return 1; }
	[ "$(json --vm "$pid_b" | jq -r --arg d "${bdfs[1]}" 'map(select(.device == $d)) | length')" -eq 5 ] || return 1
	[ "$(json --device "${bdfs[1]}" | jq -r --argjson p "$pid_b" 'map(select(.vm_pid == $p)) | length')" -eq 5 ] || return 1
	[ "$(json --device "${bdfs[0]#0000:}" | jq length)" -eq 5 ]
}
ktap_check "a VM started after load is found too; --vm and --device select each" check_two

# metrics_json FMT: pisteer status --format FMT on stdin, parsed by
# prometheus_client: prom with the text format 0.0.4 parser (what
# node_exporter's textfile collector reads), openmetrics with the
# OpenMetrics parser (strict: # EOF, grouping, suffixes, le buckets).
# The 0.0.4 parser takes any TYPE word and makes a sample its TYPE line
# does not name an untyped family of its own: so the types are checked
# here, and the raw lines for what 0.0.4 lacks (info, # UNIT, # EOF).
# Reduced to JSON: the family types, one record per vector (key
# vm/device/index) with its labels and the value of each series, the
# histograms by host IRQ.
metrics_parser() {
	/usr/bin/python3 -c '
import json, sys
try:
    from prometheus_client.parser import text_string_to_metric_families as parse_prom
    from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
except ImportError:
    parse_prom = parse_om = None

def reduce(fmt, text):
    if parse_prom is None:
        sys.exit("no python3-prometheus-client (scripts/deps.sh)")
    if fmt == "prom":
        text_string_to_metric_families = parse_prom
        allowed = {"gauge", "counter", "histogram"}
    else:
        text_string_to_metric_families = parse_om
        allowed = {"info", "gauge", "counter", "histogram"}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            if typ not in allowed:
                sys.exit(f"{fmt}: TYPE {typ}: {line}")
            if fmt == "prom" and typ == "counter" and not name.endswith("_total"):
                sys.exit(f"prom: a counter TYPE line names its _total sample: {line}")
        if fmt == "prom" and (line.startswith("# UNIT") or line.startswith("# EOF")):
            sys.exit(f"prom: not in text format 0.0.4: {line}")
    if fmt == "openmetrics" and not text.endswith("\n# EOF\n"):
        sys.exit("openmetrics: does not end in # EOF")
    series = {"pisteer_vector_info": "info", "pisteer_vector_posted": "posted",
              "pisteer_steer_moves_total": "moves", "pisteer_steer_overrides_total": "overrides",
              "pisteer_irq_interrupts_total": "irqs"}
    types, vecs, hist = {}, {}, {}
    for fam in text_string_to_metric_families(text):
        if fam.name in types:
            sys.exit(f"{fmt}: family {fam.name} twice")
        types[fam.name] = fam.type
        if fam.type not in allowed:
            sys.exit(f"{fmt}: {fam.name} is {fam.type}: {[s.name for s in fam.samples][:3]}")
        for s in fam.samples:
            key = "/".join((s.labels["vm"], s.labels["device"], s.labels["index"]))
            if s.name in series:
                v = vecs.setdefault(key, {})
                for l in ("vm", "vm_pid", "device", "index", "irq", "vcpu"):
                    if v.setdefault(l, s.labels[l]) != s.labels[l]:
                        sys.exit(f"{fmt}: {key}: label {l} differs between series")
                if s.name == "pisteer_vector_info":
                    v.update({l: s.labels[l] for l in ("mode", "reason", "policy")})
                if series[s.name] in v:
                    sys.exit(f"{fmt}: {key}: {s.name} twice")
                v[series[s.name]] = s.value
            elif s.name.startswith("pisteer_delivery_latency_seconds_"):
                h = hist.setdefault(s.labels["irq"], {"buckets": []})
                if s.name.endswith("_bucket"):
                    h["buckets"].append([float(s.labels["le"]), s.value])
                else:
                    h[s.name.rsplit("_", 1)[1]] = s.value
            else:
                sys.exit(f"{fmt}: unexpected sample {s.name}")
    return {"types": types, "vectors": vecs, "hist": hist}

# Requests: "FMT BYTES\n" and BYTES of text; one JSON line back each, or
# {"error": ...}.
while True:
    hdr = sys.stdin.buffer.readline()
    if not hdr:
        break
    fmt, n = hdr.split()
    text = sys.stdin.buffer.read(int(n)).decode()
    try:
        doc = reduce(fmt.decode(), text)
    except SystemExit as e:
        doc = {"error": str(e.code)}
    except Exception as e:
        doc = {"error": f"{fmt.decode()}: {type(e).__name__}: {e}"}
    print(json.dumps(doc), flush=True)
'
}
# One parser for the whole test: Python and prometheus_client take
# seconds to start under TCG.  Requests go in on $metrics_in, answers
# come back on $metrics_out.
metrics_fifo=$(mktemp -u)
mkfifo "$metrics_fifo.in" "$metrics_fifo.out" || exit 1
# The parser must not hold the holders' FIFO ends (closing a holder's
# input would not end it), nor later holders the parser's.
(
	for fd in $holder_fds; do eval "exec $fd>&-"; done
	exec < "$metrics_fifo.in" > "$metrics_fifo.out"
	metrics_parser
) &
exec {metrics_in}>"$metrics_fifo.in" {metrics_out}<"$metrics_fifo.out"
rm -f "$metrics_fifo.in" "$metrics_fifo.out"
holder_fds="$holder_fds $metrics_in $metrics_out"
metrics_json() {
	local text doc LC_ALL=C
	text=$(cat; echo x)
	text=${text%x}
	printf '%s %d\n%s' "$1" "${#text}" "$text" >&"$metrics_in" || return 1
	IFS= read -r doc <&"$metrics_out" || { echo "the metrics parser died"; return 1; }
	if [[ $doc == '{"error": '* ]]; then
		jq -r .error <<<"$doc"
		return 1
	fi
	printf '%s\n' "$doc"
}

# The families of each format as prometheus_client names and types them.
types_prom='{"pisteer_vector_info": "gauge", "pisteer_vector_posted": "gauge",
	"pisteer_steer_moves": "counter", "pisteer_steer_overrides": "counter",
	"pisteer_irq_interrupts": "counter", "pisteer_delivery_latency_seconds": "histogram"}'
types_openmetrics='{"pisteer_vector": "info", "pisteer_vector_posted": "gauge",
	"pisteer_steer_moves": "counter", "pisteer_steer_overrides": "counter",
	"pisteer_irq_interrupts": "counter", "pisteer_delivery_latency_seconds": "histogram"}'

# metrics_match FMT DOC JSON: the parsed metrics DOC say for each vector
# what status --json JSON says (read in the same quiet state): the same
# set of vectors, labels, mode/reason/policy, posted, the STEER counters.
metrics_match() {
	local fmt=$1 doc=$2 js=$3 types
	[ "$fmt" = prom ] && types=$types_prom || types=$types_openmetrics
	jq -e --argjson j "$js" --argjson t "$types" '. as $d |
		.types == $t and (.vectors | length) == ($j | length) and ($j | length) > 0 and
		all($j[]; . as $v | ($v.vm + "/" + $v.device + "/" + ($v.index | tostring)) as $k |
		    $d.vectors[$k] as $m | $m != null
		    and $m.vm_pid == ($v.vm_pid | tostring) and $m.irq == ($v.host_irq | tostring)
		    and $m.vcpu == (if $v.vcpu_unknown != null or $v.vcpu == null then ""
				    else ($v.vcpu | tostring) end)
		    and $m.info == 1 and $m.mode == $v.mode and $m.reason == ($v.reason // "")
		    and $m.policy == ($v.policy // "")
		    and $m.posted == (if $v.mode == "posted" then 1 else 0 end)
		    and $m.moves == $v.steer_moves and $m.overrides == $v.steer_overridden
		    and ($m.irqs | type) == "number")' <<<"$doc" >/dev/null && return 0
	echo "$fmt, parsed:"
	jq -c '.types, (.vectors | to_entries[] | [.key, .value])' <<<"$doc"
	echo "status --json:"
	jq -c '.[] | {vm, device, index, vm_pid, host_irq, vcpu, vcpu_unknown, mode, reason, policy,
		steer_moves, steer_overridden}' <<<"$js"
	return 1
}

# VM A's host IRQs steered to CPU 1 first: STEER counters that are not
# all 0 (a move per vector), the same in --json and in the metrics once
# the moves are done.
steer_a_once() {
	local i
	[ -n "${steered_a:-}" ] && return 0
	"$cli" steer --vm "$pid_a" static 1 >/dev/null || return 1
	for i in $(seq 100); do
		json --vm "$pid_a" | jq -e 'length == 5 and all(.[]; .steer_moves >= 1)' >/dev/null &&
			{ steered_a=1; return 0; }
		sleep 0.02
	done
	json --vm "$pid_a" | jq -c '.[] | {index, policy, steer_cpu, steer_moves}'
	return 1
}

# What the metrics carry of status --json, sorted: equal in two reads
# means nothing they show changed in between.
shown() {
	jq -c 'map({vm, device, index, vm_pid, host_irq, vcpu, vcpu_unknown, mode, reason,
		policy, steer_moves, steer_overridden}) | sort_by(.vm, .device, .index)'
}

# metrics_read FMT [ARGS]: status --json, then --format FMT ARGS, then
# --json again, until both --json reads agree (a vCPU thread may move a
# followed IRQ meanwhile): "$js" and "$text" set.
metrics_read() {
	local fmt=$1 try js2
	shift
	for try in 1 2 3 4 5; do
		js=$(json | shown) || return 1
		text=$("$cli" status --format "$fmt" "$@"; echo x) || return 1
		text=${text%x}
		js2=$(json | shown) || return 1
		[ "$js" = "$js2" ] && return 0
		echo "# status --json changed while reading --format $fmt (try $try)"
	done
	return 1
}

check_metrics() {
	local fmt=$1 text doc js
	steer_a_once || return 1
	metrics_read "$fmt" || return 1
	doc=$(printf '%s' "$text" | metrics_json "$fmt") || { printf '%s' "$text" | head -30; return 1; }
	metrics_match "$fmt" "$doc" "$js" &&
		jq -e '(.vectors | length) == 10 and .hist == {}
			and ([.vectors[] | .moves] | add) >= 5
			and ([.vectors[] | .irqs] | length) == 10' <<<"$doc" >/dev/null ||
		{ jq -c '[.vectors[] | .moves], .hist' <<<"$doc"; return 1; }
}
ktap_check "status --format prom parses as text format 0.0.4 (prometheus_client): families typed, per vector the labels, mode, posted and STEER counters of --json" \
	check_metrics prom
ktap_check "status --format openmetrics parses as OpenMetrics (prometheus_client): info family, per vector what --json says" \
	check_metrics openmetrics

# --output FILE: the whole file renamed into place over a stale one, mode
# 0644, no temporary file left; a path that cannot be written: exit 1,
# said, nothing created, the old file kept.
check_metrics_output() {
	local dir f fmt rc err left um text js
	dir=$(mktemp -d) && f=$dir/pisteer.prom || return 1
	for fmt in prom openmetrics; do
		echo stale >"$f" && chmod 600 "$f" || return 1
		um=$(umask)
		umask 077
		metrics_read "$fmt" --output "$f"; rc=$?
		umask "$um"
		[ $rc -eq 0 ] || return 1
		[ -z "$text" ] || { echo "$fmt --output: wrote to stdout too"; return 1; }
		metrics_match "$fmt" "$(metrics_json "$fmt" <"$f")" "$js" || return 1
		[ "$(stat -c %a "$f")" = 644 ] || { echo "$fmt: mode $(stat -c %a "$f")"; return 1; }
		left=$(find "$dir" -mindepth 1 ! -name pisteer.prom)
		[ -z "$left" ] || { echo "$fmt: temporary file left: $left"; return 1; }
	done
	# The root file system is read-only in the rig: EROFS; a missing
	# directory; FILE a directory.
	err=$("$cli" status --format prom --output /usr/pisteer.prom 2>&1 >/dev/null); rc=$?
	[ $rc -eq 1 ] && [[ $err == *"--output /usr/pisteer.prom: cannot create a file in /usr/: Read-only file system"* ]] ||
		{ echo "read-only: exit $rc: $err"; return 1; }
	err=$("$cli" status --format prom --output "$dir/no/x.prom" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 1 ] && [[ $err == *"cannot create a file in $dir/no/: No such file or directory"* ]] ||
		{ echo "missing directory: exit $rc: $err"; return 1; }
	err=$("$cli" status --format openmetrics --output "$dir" 2>&1 >/dev/null); rc=$?
	[ $rc -eq 1 ] && [[ $err == *"is a directory, not a file"* ]] ||
		{ echo "a directory: exit $rc: $err"; return 1; }
	left=$(find "$dir" -mindepth 1 ! -name pisteer.prom)
	[ -z "$left" ] && [ ! -e /usr/pisteer.prom ] || { echo "left: $left"; return 1; }
	metrics_json openmetrics <"$f" >/dev/null || return 1
	rm -rf "$dir"
}
ktap_check "status --output FILE: whole, renamed over the old FILE, mode 0644 whatever the umask, no temporary file; unwritable paths: exit 1, said, nothing left" \
	check_metrics_output
"$cli" steer --vm "$pid_a" none >/dev/null || ktap_diag "steer --vm $pid_a none failed"

check_prom_irqs() {
	local before after irq want
	before=$("$cli" status --format prom --vm "$pid_b" | metrics_json prom) || return 1
	tell B t raised || return 1
	after=$("$cli" status --format prom --vm "$pid_b" | metrics_json prom) || return 1
	[ "$(jq '[.vectors[] | .irqs] | length' <<<"$after")" -eq 5 ] || { echo "$after"; return 1; }
	for irq in $(jq -r '.vectors[] | .irq' <<<"$after"); do
		jq -e --argjson b "$before" --arg i "$irq" '
			(.vectors[] | select(.irq == $i) | .irqs) >
			($b.vectors[] | select(.irq == $i) | .irqs)' <<<"$after" >/dev/null ||
			{ echo "IRQ $irq: before $(jq -c '[.vectors[] | [.irq, .irqs]]' <<<"$before"), after $(jq -c '[.vectors[] | [.irq, .irqs]]' <<<"$after")"; return 1; }
		want=$(awk -v i="$irq:" '$1 == i { s = 0; for (c = 2; c <= NF && $c ~ /^[0-9]+$/; c++) s += $c; print s }' /proc/interrupts)
		[ "$want" -ge "$(jq --arg i "$irq" '.vectors[] | select(.irq == $i) | .irqs' <<<"$after")" ] ||
			{ echo "IRQ $irq: /proc/interrupts $want now, prom said more"; return 1; }
	done
}
ktap_check "pisteer_irq_interrupts_total grows for each of the VM's vectors after it raised them, never past /proc/interrupts" \
	check_prom_irqs

# With pisteer lat sampling the VM: a histogram per vector in both
# formats, the module's log2 buckets as cumulative le bounds (2^(k+1)-1
# ns), +Inf = _count = what pisteer lat counts (read before and after:
# QEMU may send a duplicate MSI-X meanwhile), _sum its sum.
check_prom_hist() {
	local prom om lat1 lat2 doc
	"$cli" lat --enable --vm "$pid_b" || return 1
	if ! tell B t raised || ! tell B t raised; then
		"$cli" lat --disable --vm "$pid_b"
		return 1
	fi
	lat1=$("$cli" lat --vm "$pid_b" --json)
	prom=$("$cli" status --format prom --vm "$pid_b" | metrics_json prom)
	om=$("$cli" status --format openmetrics --vm "$pid_b" | metrics_json openmetrics)
	lat2=$("$cli" lat --vm "$pid_b" --json)
	"$cli" lat --disable --vm "$pid_b" || return 1
	for doc in "$prom" "$om"; do
		jq -e --argjson l1 "$lat1" --argjson l2 "$lat2" '. as $d |
			(.hist | length) == 5 and ($l1.vectors | length) == 5 and
			all($l1.vectors[]; . as $v | ($v.host_irq | tostring) as $i | $d.hist[$i] as $h |
			    ([$l2.vectors[] | select(.host_irq == $v.host_irq)][0]) as $w |
			    $v.count > 0 and $h != null and $w != null
			    and $h.count >= $v.count and $h.count <= $w.count
			    and $h.sum * 1e9 > $v.sum_ns - 1000 and $h.sum * 1e9 < $w.sum_ns + 1000
			    and ($h.buckets | length) == 64 and $h.buckets[-1][1] == $h.count
			    and $h.buckets[-1][0] == infinite
			    and ($h.buckets[0][0] | . * 1e9 | round) == 1
			    and ($h.buckets[9][0] | . * 1e9 | round) == 1023
			    and ([range(1; 64) as $k | $h.buckets[$k][1] >= $h.buckets[$k - 1][1]
				  and $h.buckets[$k][0] > $h.buckets[$k - 1][0]] | all))' <<<"$doc" >/dev/null ||
			{ echo "$doc" | jq -c '.hist | map_values({count, sum})'; echo "$lat1" | jq -c '.vectors[] | {host_irq, count, sum_ns}'; return 1; }
	done
}
ktap_check "sampled by pisteer lat: pisteer_delivery_latency_seconds per vector in prom and openmetrics, cumulative le in seconds, +Inf = _count = lat's count" \
	check_prom_hist

check_msix_cycle() {
	tell B d disabled && wait_trace vector_del "$vm_b" 5 &&
		[ "$(json --vm "$pid_b" | jq length)" -eq 0 ] &&
		tell B e enabled && wait_trace vector_add "$vm_b" 10 &&
		[ "$(json --vm "$pid_b" | jq length)" -eq 5 ]
}
ktap_check "MSI-X disabled by the VMM: vectors go (vector_del); enabled again: back (vector_add)" \
	check_msix_cycle

check_table() {
	local out
	out=$("$cli" status --vm "$pid_a") || return 1
	printf '%s\n' "$out" | sed 's/^/# /'
	[ "$(printf '%s\n' "$out" | grep -c "^$pid_a-")" -eq 5 ] &&
		printf '%s\n' "$out" | head -1 | grep -q 'VM .*DEVICE .*IRQ .*GSI .*VCPU .*PCPU .*AFFINITY .*MODE'
}
ktap_check "the table: a header and one row per vector" check_table

ktap_run list_ioctl "$top/build/selftests/list_ioctl" "$pid_a" "${bdfs[0]}" 5

check_bad_args() {
	local rc
	"$cli" status --vm abc >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || { echo "--vm abc: exit $rc"; return 1; }
	"$cli" status --device 00:zz.0 >/dev/null 2>&1; rc=$?
	[ $rc -eq 2 ] || { echo "--device 00:zz.0: exit $rc"; return 1; }
	"$cli" status --vm 999999 | grep -q 'no passthrough vectors match' || return 1
	setpriv --reuid=65534 --regid=65534 --clear-groups "$cli" status >/dev/null 2>&1; rc=$?
	[ $rc -eq 4 ] || { echo "unprivileged: exit $rc"; return 1; }
}
ktap_check "bad --vm/--device: exit 2; no match: says so; not root: exit 4" check_bad_args

# A logical destination to vCPUs in xAPIC mode (the test guest's): only
# KVM's private APIC state has their logical IDs, so the target must read
# as unknown, with the reason, never as a guess.
check_unknown_target() {
	local out i
	tell A l logical || return 1
	for i in $(seq 50); do
		out=$(json --vm "$pid_a") || return 1
		jq -e '.[] | select(.index == 0) | .dest_logical and .vcpu == null' \
			<<<"$out" >/dev/null && break
		sleep 0.02
	done
	jq -e '(.[] | select(.index == 0) | .vcpu_unknown != null
		and (.vcpu_unknown | test("xAPIC logical")) and .target_how == null
		and .vcpu_tid == null and .vcpu_pcpu == null)
		and ([.[] | select(.index != 0) | .target_how == "apic_id"] | all)' \
		<<<"$out" >/dev/null || { echo "$out" | jq -c '.[] | {index, vcpu, vcpu_unknown, target_how}'; return 1; }
	out=$("$cli" status --vm "$pid_a") || return 1
	printf '%s\n' "$out" | sed 's/^/# /'
	printf '%s\n' "$out" | grep -q "^VCPU ?: the module cannot tell the target (xAPIC logical" &&
		printf '%s\n' "$out" | awk '$3 == "msix0" && $7 == "?" { f = 1 } END { exit !f }' ||
		return 1
	# Back to the physical routes the later checks expect.
	tell A r rerouted && tell A r rerouted
}
ktap_check "logical destination to xAPIC vCPUs: target shown unknown (VCPU ?) with the reason" \
	check_unknown_target

holder_stop A
check_gone() {
	wait_trace vector_del "$vm_a" 5 &&
		[ "$(json --vm "$pid_a" | jq length)" -eq 0 ] &&
		[ "$(json | jq length)" -eq 5 ]
}
ktap_check "when a VM exits its vectors disappear (pisteer:vector_del), the other VM's stay" check_gone

check_unload() {
	local probes=/sys/kernel/debug/kprobes/list
	grep -q kvm_irqfd "$probes" || { echo "no pisteer kprobe while loaded"; return 1; }
	grep -q irq_do_set_affinity "$probes" && grep -q sched_setaffinity "$probes" &&
		grep -q set_cpus_allowed_ptr "$probes" ||
		{ echo "no affinity or vCPU watch probe while loaded"; cat "$probes"; return 1; }
	rmmod pisteer || return 1
	! grep -qw pisteer /proc/modules && ! test -e /dev/pisteer &&
		! test -e /sys/kernel/debug/pisteer &&
		! grep -qE 'kvm_irqfd|kvm_set_irq_routing|vfio_pci_set_irqs_ioctl|irq_set_vcpu_affinity|amd_iommu_update_ga|irq_do_set_affinity|sched_setaffinity|set_cpus_allowed_ptr' "$probes"
}
ktap_check "rmmod with a VM running: no kprobe, device or debugfs entry left" check_unload

check_after_unload() {
	tell B r rerouted && tell B t raised
}
ktap_check "that VM goes on after the unload: reroutes, every vector raised arrives on its routed vCPU" \
	check_after_unload
holder_stop B
ktap_check "and exits cleanly" test $? -eq 0
ktap_finish
