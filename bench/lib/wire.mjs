// Wire helpers shared by the generator threads: lib0 varints, the three binary framings, the latency marker.
//
// The marker: every update a writer sends is a real Yjs update (made with the `yjs` package) that inserts the
// 28-character ASCII string  ~Bw IIIIIIII TTTTTTTTTTTTTTTT ~  (no spaces) into a Y.Text, where I is the update's
// index in the run (8 hex digits) and T the send time in microseconds of CLOCK_MONOTONIC (16 decimal digits).
// The update is generated with T = 0; the generator writes the real send time into those 16 bytes right before
// sending. A Yjs update v1 stores string content as raw UTF-8 (varString), so the patched update is still a valid
// update of the same length, and every server relays the string unchanged (whether it forwards the bytes, re-encodes
// the transaction or merges updates), so receivers find the marker with a byte search and need no Y.Doc.

export const MARKER_PREFIX = Buffer.from('~Bw', 'latin1');
export const MARKER_LENGTH = 28;
export const TIME_OFFSET = 11; // from the marker start: 3 prefix + 8 hex index

export function markerText(index) {
  return '~Bw' + index.toString(16).padStart(8, '0') + '0'.repeat(16) + '~';
}

/** Microseconds of CLOCK_MONOTONIC: the same clock in every thread and process of this machine. */
export function nowUs() {
  return Number(process.hrtime.bigint() / 1000n);
}

export function writeDec16(buf, off, v) {
  for (let i = 15; i >= 0; i--) {
    buf[off + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
}

export function readDec16(buf, off) {
  let v = 0;
  for (let i = 0; i < 16; i++) v = v * 10 + (buf[off + i] - 48);
  return v;
}

function hexVal(c) {
  return c <= 57 ? c - 48 : (c | 32) - 87;
}

export function readHex8(buf, off) {
  let v = 0;
  for (let i = 0; i < 8; i++) v = v * 16 + hexVal(buf[off + i]);
  return v;
}

// ---- lib0 encoding -----------------------------------------------------------------------------------------

export function varUintBytes(n) {
  const out = [];
  while (n > 127) {
    out.push(128 | (n & 127));
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

export function concat(parts) {
  return Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
}

export function varUint8Array(bytes) {
  return concat([varUintBytes(bytes.length), bytes]);
}

export function varString(s) {
  return varUint8Array(Buffer.from(s, 'utf8'));
}

/** Reads a varUint at pos; returns [value, nextPos]. */
export function readVarUint(buf, pos) {
  let num = 0;
  let mult = 1;
  for (;;) {
    const r = buf[pos++];
    num += (r & 127) * mult;
    if (r < 128) return [num, pos];
    mult *= 128;
    if (pos > buf.length) throw new Error('varUint past the end');
  }
}

// ---- y-websocket frames ---------------------------------------------------------------------------------------
export const EMPTY_SV = Buffer.from([0]);            // Y.encodeStateVector(new Y.Doc())
export const EMPTY_UPDATE = Buffer.from([0, 0]);     // Y.encodeStateAsUpdate(new Y.Doc())

export const yws = {
  step1: (sv = EMPTY_SV) => concat([[0, 0], varUint8Array(sv)]),
  step2: (update = EMPTY_UPDATE) => concat([[0, 1], varUint8Array(update)]),
  update: (update) => concat([[0, 2], varUint8Array(update)]),
};

// ---- Hocuspocus frames (provider 4.x) ---------------------------------------------------------------------------
export const hp = {
  auth: (doc, token = '', version = '4.8.0') => concat([varString(doc), [2, 0], varString(token), varString(version)]),
  step1: (doc, sv = EMPTY_SV) => concat([varString(doc), [0, 0], varUint8Array(sv)]),
  step2: (doc, update = EMPTY_UPDATE) => concat([varString(doc), [0, 1], varUint8Array(update)]),
  update: (doc, update) => concat([varString(doc), [0, 2], varUint8Array(update)]),
  pong: () => Buffer.from([10]),
};

/** Decodes a Yjs state vector (varUint n, n x (client, clock)) into a Map. */
export function decodeStateVector(sv) {
  const m = new Map();
  let [n, pos] = readVarUint(sv, 0);
  for (let i = 0; i < n; i++) {
    let client, clock;
    [client, pos] = readVarUint(sv, pos);
    [clock, pos] = readVarUint(sv, pos);
    m.set(client, clock);
  }
  return m;
}
