// Who I am in a document: a display name and a colour, both kept in localStorage so they survive
// reloads. Defaults are friendly random ones ("Blue Fox").

const NAME_KEY = 'collab.name';
const COLOR_KEY = 'collab.color';

export const PALETTE = [
  { name: 'Blue', color: '#2f6feb' },
  { name: 'Coral', color: '#e5534b' },
  { name: 'Green', color: '#2da44e' },
  { name: 'Amber', color: '#d4a72c' },
  { name: 'Violet', color: '#8250df' },
  { name: 'Teal', color: '#1b998b' },
  { name: 'Pink', color: '#d6336c' },
  { name: 'Orange', color: '#e8590c' },
  { name: 'Indigo', color: '#4c6ef5' },
  { name: 'Olive', color: '#74992e' },
];

const ANIMALS = ['Fox', 'Otter', 'Heron', 'Lynx', 'Panda', 'Koala', 'Falcon', 'Badger', 'Gecko', 'Moose',
  'Owl', 'Seal', 'Tiger', 'Wren', 'Yak', 'Bison', 'Crane', 'Dingo', 'Ibex', 'Marten'];

const pick = (arr) => arr[Math.floor(Math.random() * arr.length)];

function load(key) {
  try { return localStorage.getItem(key); } catch { return null; }
}
function save(key, value) {
  try { localStorage.setItem(key, value); } catch { /* storage disabled */ }
}

export function randomIdentity() {
  const p = pick(PALETTE);
  return { name: `${p.name} ${pick(ANIMALS)}`, color: p.color };
}

/** The stored identity, or a new random one (stored right away). */
export function loadIdentity() {
  let name = load(NAME_KEY);
  let color = load(COLOR_KEY);
  if (!name || !/^#[0-9a-f]{6}$/i.test(color || '')) {
    const r = randomIdentity();
    name ||= r.name;
    color = /^#[0-9a-f]{6}$/i.test(color || '') ? color : r.color;
    save(NAME_KEY, name);
    save(COLOR_KEY, color);
  }
  return { name, color: color.toLowerCase() };
}

export function saveIdentity({ name, color }) {
  if (name) save(NAME_KEY, name);
  if (color) save(COLOR_KEY, color);
}

/** A short random document id that reads well in a URL: "calm-river-7k3q". */
export function newDocumentId() {
  const adjectives = ['calm', 'bright', 'quiet', 'swift', 'bold', 'gentle', 'lucky', 'sunny', 'brave', 'merry',
    'amber', 'silver', 'crisp', 'vivid', 'misty', 'noble'];
  const nouns = ['river', 'meadow', 'harbor', 'forest', 'canyon', 'island', 'summit', 'valley', 'garden', 'comet',
    'lagoon', 'prairie', 'glacier', 'orchard', 'beacon', 'delta'];
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  const suffix = Array.from(bytes, (b) => '0123456789abcdefghijklmnopqrstuvwxyz'[b % 36]).join('');
  return `${pick(adjectives)}-${pick(nouns)}-${suffix}`;
}
