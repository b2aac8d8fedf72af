import { h } from './dom.js';

export function BRAND(suffix) {
  const mark = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  mark.setAttribute('viewBox', '0 0 32 32');
  mark.setAttribute('aria-hidden', 'true');
  mark.innerHTML = '<rect width="32" height="32" rx="8" fill="#1f2937"/><path d="M9 21.5 16 8l7 13.5" fill="none" stroke="#60a5fa" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/><circle cx="16" cy="22" r="2.6" fill="#f472b6"/>';
  return h('a.brand', { href: '/' }, mark, h('span', 'collab'), suffix ? h('span.brand-suffix', suffix) : null);
}
