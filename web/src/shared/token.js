// Access tokens travel in the URL fragment (#token=…), which browsers never send to the server, so
// they never end up in access logs. The page reads the fragment once, keeps the token in
// sessionStorage (this tab only) and removes it from the address bar.

/** Reads `#token=` (also inside `#a=b&token=…`), stores it under `key`, strips it from the URL. */
export function takeToken(key) {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : '';
  const params = new URLSearchParams(hash);
  const fromHash = params.get('token');
  if (fromHash) {
    try { sessionStorage.setItem(key, fromHash); } catch { /* storage disabled */ }
    params.delete('token');
    const rest = params.toString();
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
    return fromHash;
  }
  return readToken(key);
}

export function readToken(key) {
  try { return sessionStorage.getItem(key) || ''; } catch { return ''; }
}

export function storeToken(key, token) {
  try {
    if (token) sessionStorage.setItem(key, token);
    else sessionStorage.removeItem(key);
  } catch { /* storage disabled */ }
}

/**
 * The claims of a JWT access token, read without checking the signature (the server does that):
 * only to adapt the page (read-only scope, expiry). null when the token is not a JWT.
 */
export function tokenClaims(token) {
  const parts = String(token || '').split('.');
  if (parts.length !== 3) return null;
  try {
    const b64 = parts[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)),
      (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
    const claims = JSON.parse(json);
    return claims && typeof claims === 'object' ? claims : null;
  } catch {
    return null;
  }
}
