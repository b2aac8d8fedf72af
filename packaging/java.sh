# Finding a Java >= 21 and the server's JVM options; sourced by ./collab and by the packaged bin/collab-server.
# COLLAB_JVM_DIR overrides where installed JVMs are searched (default /usr/lib/jvm; the tests point it elsewhere).

java_major() { # prints the major version of the given java binary, or nothing
  "$1" -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit}'
}

# find_java_home [jdk|runtime]: prints a JAVA_HOME with Java >= 21 (a JDK with javac unless "runtime"), or prints
# the hint on stderr and returns 1. Callers must check the status: `export X="$(find_java_home)"` would hide it.
find_java_home() {
  local need="${1:-jdk}" best="" best_v=0 d v
  usable() { [[ -x "$1/bin/java" ]] && { [[ "$need" == runtime ]] || [[ -x "$1/bin/javac" ]]; }; }
  if [[ -n "${JAVA_HOME:-}" ]] && usable "$JAVA_HOME"; then
    v="$(java_major "$JAVA_HOME/bin/java")"
    if [[ -n "$v" && "$v" -ge 21 ]]; then echo "$JAVA_HOME"; return 0; fi
  fi
  if [[ "$need" == runtime ]] && command -v java >/dev/null; then
    d="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
    v="$(java_major "$d/bin/java")"
    if [[ -n "$v" && "$v" -ge 21 ]]; then echo "$d"; return 0; fi
  fi
  for d in "${COLLAB_JVM_DIR:-/usr/lib/jvm}"/*/; do
    d="${d%/}"
    usable "$d" || continue
    v="$(java_major "$d/bin/java")"
    if [[ -n "$v" && "$v" -ge 21 && "$v" -gt "$best_v" ]]; then best="$d"; best_v="$v"; fi
  done
  if [[ -z "$best" ]]; then
    local what="JDK"; [[ "$need" == runtime ]] && what="Java runtime"
    echo "collab: no $what 21 or newer found (JAVA_HOME unset or older, nothing suitable under ${COLLAB_JVM_DIR:-/usr/lib/jvm})." >&2
    echo "collab: install one (for example: apt-get install openjdk-21-jdk-headless) or set JAVA_HOME to a $what >= 21." >&2
    return 1
  fi
  echo "$best"
}

# JVM options for the server; COLLAB_JAVA_OPTS comes after them, so its flags win. A young generation of at most
# 32 MiB keeps the heap (and RSS) near the live data: with the default sizing G1 let ~20 KiB of garbage per idle
# connection stay resident after 5,000 handshakes (bench scenario 5), at no measurable CPU cost in scenarios 1-2.
# Compact object headers (a product flag since JDK 25) shrink every object by 4 bytes.
# Heap after a burst (a large paste, a merge of a large document): the server runs one concurrent collection once
# the collector has been quiet for a second after collecting (dev.collab.HeapTrim; ExplicitGCInvokesConcurrent makes
# that System.gc() a concurrent cycle, not a full pause) and, with MaxHeapFreeRatio=30, G1 then gives back to the OS
# what exceeds 30% free, so the heap shrinks to the live data once the burst is over (the default ratio of 70% kept
# most of it). G1's own periodic collection (G1PeriodicGCInterval) did the same but ran every 2 s for as long as the
# server was idle: 4.7% of a core with 5,000 idle connections. G1 is named because the JVM picks Serial GC on small
# machines.
server_jvm_options() { # server_jvm_options JAVA_BINARY
  local opts="--enable-native-access=ALL-UNNAMED -XX:MaxNewSize=32m -XX:+UseG1GC -XX:+ExplicitGCInvokesConcurrent"
  opts+=" -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30"
  if [[ "$(java_major "$1")" -ge 25 ]]; then opts+=" -XX:+UseCompactObjectHeaders"; fi
  echo "$opts"
}
