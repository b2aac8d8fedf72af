// HS256 JSON Web Tokens for the server's access control (COLLAB_AUTH_SECRET), signed with node:crypto.
//
//   const secret = newSecret();                                  // 32+ random bytes, as COLLAB_AUTH_SECRET wants
//   const t = signToken(secret, { sub: 'alice', doc: 'doc-1', scope: 'read-write' });   // exp: now + 1 h
//   const ro = signToken(secret, { doc: 'team-*', scope: 'read-only', exp: nowSeconds() + 60 });
//   const expired = signToken(secret, { doc: 'doc-1', scope: 'read-write', exp: nowSeconds() - 60 });
//   const forged = signToken(otherSecret, { ... });             // valid shape, wrong key
//
// Claims are passed through as given (a claim set to undefined is left out), so tests can also build tokens the
// server must refuse: no exp, no doc, an unknown scope, a different algorithm in the header.
import { createHmac, randomBytes } from 'node:crypto';

/** A fresh secret of `bytes` random bytes as base64url text (always >= 32 bytes of UTF-8 for the default). */
export function newSecret(bytes = 36) {
  return randomBytes(bytes).toString('base64url');
}

export function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

function b64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/**
 * Signs `claims` with HMAC-SHA256 under `secret` (the UTF-8 bytes of the string, as the server reads
 * COLLAB_AUTH_SECRET). Defaults: exp one hour from now; `header` overrides fields of {alg: 'HS256', typ: 'JWT'}.
 */
export function signToken(secret, claims, { header = {} } = {}) {
  const body = { exp: nowSeconds() + 3600, ...claims };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  const head = { alg: 'HS256', typ: 'JWT', ...header };
  const signingInput = `${b64url(head)}.${b64url(body)}`;
  const signature = createHmac('sha256', Buffer.from(secret, 'utf8')).update(signingInput).digest('base64url');
  return `${signingInput}.${signature}`;
}

/** An unsigned token ({"alg":"none"}) with the given claims: must always be refused. */
export function unsignedToken(claims) {
  const body = { exp: nowSeconds() + 3600, ...claims };
  return `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(body)}.`;
}

/** The token with one character of its signature changed (a tampered token). */
export function tamper(token) {
  const i = token.lastIndexOf('.') + 1;
  const c = token[i] === 'A' ? 'B' : 'A';
  return token.slice(0, i) + c + token.slice(i + 1);
}

/** The decoded claims of a token (no verification), for assertions and messages. */
export function claimsOf(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}
