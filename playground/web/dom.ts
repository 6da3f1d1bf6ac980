// A small helper to build DOM elements.

/** What an element may contain. */
export type Child = Node | string | null | undefined | false;

/** Attribute values; false and undefined leave the attribute out, true sets it empty. */
export type Attrs = Record<string, string | number | boolean | undefined>;

/** h creates an element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false) {
      continue;
    }
    el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c !== null && c !== undefined && c !== false) {
      el.append(c);
    }
  }
  return el;
}
