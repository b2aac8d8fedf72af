#!/usr/bin/env node
// Opens N silent y-websocket connections (the bench's idle scenario without the bench) to a running server and keeps
// them open until killed, answering nothing but what the WebSocket library answers itself (pongs), so the server's
// idle costs can be profiled: node bench/idle-probe.mjs ws://127.0.0.1:PORT/yjs 5000 100
import WebSocket from 'ws';

const [url = 'ws://127.0.0.1:8080/yjs', n = '5000', docs = '100'] = process.argv.slice(2);
let open = 0;
let closed = 0;
const codes = {};
const sockets = [];
for (let i = 0; i < Number(n); i++) {
  await new Promise((resolve) => {
    const ws = new WebSocket(`${url}/idle-doc${i % Number(docs)}`);
    ws.on('open', () => { open++; resolve(); });
    ws.on('error', () => resolve());
    ws.on('close', (code, reason) => { closed++; const k = `${code} ${reason}`; codes[k] = (codes[k] || 0) + 1; });
    ws.on('message', () => {});
    sockets.push(ws);
  });
}
console.log(`opened ${open} (${closed} closed)`, codes);
setInterval(() => console.log(`open ${open - closed}`, codes), 15000);
