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
