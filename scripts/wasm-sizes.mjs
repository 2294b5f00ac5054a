// Where the worker's wasm goes: function body sizes from a build that keeps the name section,
// summed by crate (the first path segment of each Rust symbol, or the crate of the type an
// `impl` is for), plus the data segments. Usage:
//   CARGO_PROFILE_RELEASE_STRIP=false cargo build --release --target wasm32-unknown-unknown
//   node scripts/wasm-sizes.mjs target/wasm32-unknown-unknown/release/edge_oidc.wasm [top]
// (The sizes are before wasm-bindgen and wasm-opt, which shrink the whole by a few per cent.)
import { readFileSync } from 'node:fs';

const buf = readFileSync(process.argv[2]);
const top = Number(process.argv[3]) || 25;
let pos = 8;
const leb = () => {
  let r = 0,
    shift = 0,
    b;
  do {
    b = buf[pos++];
    r += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return r;
};
const bodies = [];
const names = new Map();
let imports = 0,
  data = 0;
while (pos < buf.length) {
  const id = buf[pos++];
  const size = leb();
  const start = pos;
  if (id === 2) {
    for (let n = leb(), i = 0; i < n; i++) {
      // Module and field names (`pos += leb()` would read pos before leb moves it).
      for (let k = 0; k < 2; k++) {
        const len = leb();
        pos += len;
      }
      const kind = buf[pos++];
      if (kind === 0) {
        leb();
        imports++;
      } else if (kind === 1) {
        pos++;
        const f = leb();
        leb();
        if (f & 1) leb();
      } else if (kind === 2) {
        const f = leb();
        leb();
        if (f & 1) leb();
      } else {
        pos += 2;
      }
    }
  } else if (id === 10) {
    for (let n = leb(), i = 0; i < n; i++) {
      const s = leb();
      bodies.push(s);
      pos += s;
    }
  } else if (id === 11) {
    data += size;
  } else if (id === 0) {
    const l = leb();
    if (buf.subarray(pos, pos + l).toString() === 'name') {
      pos += l;
      while (pos < start + size) {
        const sub = buf[pos++];
        const len = leb();
        const end = pos + len;
        if (sub === 1)
          for (let n = leb(), i = 0; i < n; i++) {
            const idx = leb();
            const nl = leb();
            names.set(idx, buf.subarray(pos, pos + nl).toString());
            pos += nl;
          }
        pos = end;
      }
    }
  }
  pos = start + size;
}

/** The identifiers of a legacy-mangled Rust path (`_ZN<len><ident><len><ident>...E`). */
function segments(name) {
  const out = [];
  let i = name.indexOf('_ZN');
  if (i < 0) return out;
  i += 3;
  while (i < name.length && /\d/.test(name[i])) {
    let j = i;
    while (/\d/.test(name[j])) j++;
    const len = Number(name.slice(i, j));
    out.push(name.slice(j, j + len));
    i = j + len;
  }
  return out;
}

/** The path a function is named under: its own segments, or for `<impl Trait for Type>` the
 *  type's path (`..`-separated inside the first segment). */
function pathOf(segs) {
  if (!segs[0]?.startsWith('_$LT$')) return segs;
  const inner = segs[0].replace(/^_\$LT\$/, '').replace(/^impl\$u20\$/, '');
  const forType = inner.split('$u20$for$u20$')[1] ?? inner;
  return forType.replace(/^(\$RF\$|\$BP\$|mut\$u20\$)+/, '').split('..');
}

/** The crate a function belongs to: the first segment of its path (`pathOf`). */
function crateOf(name) {
  const segs = segments(name);
  if (!segs.length) return name ? '(not Rust: std/wasm-bindgen glue)' : '(unnamed)';
  if (!segs[0].startsWith('_$LT$')) return segs[0];
  return pathOf(segs)[0].replace(/\$.*$/, '') || segs[0];
}

/** For our own crate, the module a function belongs to (`http::account`, `oauth::grants`, ...):
 *  the first two segments of its path after the crate. */
function moduleOf(name) {
  const mods = pathOf(segments(name))
    .slice(1)
    .map((p) => p.replace(/\$.*$/, ''))
    .filter((p) => /^[a-z_][a-z0-9_]*$/.test(p));
  return mods.slice(0, 2).join('::') || '(crate root)';
}

const total = bodies.reduce((a, b) => a + b, 0);
const byCrate = new Map();
bodies.forEach((s, i) => {
  const c = crateOf(names.get(i + imports) ?? '');
  byCrate.set(c, (byCrate.get(c) ?? 0) + s);
});
console.log(`| crate | code bytes | share |\n|---|---|---|`);
for (const [c, s] of [...byCrate].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`| ${c} | ${s} | ${((100 * s) / total).toFixed(1)}% |`);
console.log(`| **all code** (${bodies.length} functions) | ${total} | |\n| data segments | ${data} | |`);
const byModule = new Map();
bodies.forEach((s, i) => {
  const n = names.get(i + imports) ?? '';
  if (crateOf(n) === 'edge_oidc') byModule.set(moduleOf(n), (byModule.get(moduleOf(n)) ?? 0) + s);
});
console.log(`\n| edge_oidc module | code bytes | share of all code |\n|---|---|---|`);
for (const [m, s] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, top))
  console.log(`| ${m} | ${s} | ${((100 * s) / total).toFixed(1)}% |`);
console.log(`\n| largest functions | code bytes |\n|---|---|`);
const largest = bodies
  .map((s, i) => [names.get(i + imports) ?? '(unnamed)', s])
  .sort((a, b) => b[1] - a[1])
  .slice(0, 15);
for (const [n, s] of largest) {
  const readable = (segments(n).join('::') || n)
    .replace(/\$LT\$/g, '<')
    .replace(/\$GT\$/g, '>')
    .replace(/\$u20\$/g, ' ')
    .replace(/\$u7b\$\$u7b\$closure\$u7d\$\$u7d\$/g, '{closure}')
    .replace(/\.\./g, '::')
    .slice(0, 110);
  console.log(`| \`${readable}\` | ${s} |`);
}
