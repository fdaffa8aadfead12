// A strict little XML reader for the tests of rendered SVGs: elements with attributes and children, every tag balanced, text kept.
import assert from 'node:assert/strict';

/** One element of a parsed document. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (entities decoded), without its children's. */
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string): string => s.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (m, e: string) =>
  e[0] === '#' ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ENTITIES[e] ?? m);

/**
 * Parses an XML document (an SVG) into its root element; throws on a tag that does not close, closes the wrong element,
 * a malformed attribute, an unknown entity, or text outside the root. No DTDs or CDATA (vega writes neither).
 */
export function parseXml(xml: string): XmlElement {
  const src = xml.replace(/^<\?xml[^>]*\?>/, '');
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const token = /<!--[\s\S]*?-->|<(\/?)([A-Za-z_][\w:.-]*)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let at = 0;
  while (at < src.length) {
    token.lastIndex = at;
    m = token.exec(src);
    if (!m) throw new SyntaxError(`malformed XML at ${at}: ${JSON.stringify(src.slice(at, at + 60))}`);
    at = token.lastIndex;
    if (m[0].startsWith('<!--')) continue;
    if (m[5] !== undefined) {
      if (/&(?!(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);)/i.test(m[5])) throw new SyntaxError(`bad entity in text ${JSON.stringify(m[5].slice(0, 40))}`);
      if (stack.length) stack[stack.length - 1].text += decode(m[5]);
      else if (m[5].trim()) throw new SyntaxError(`text outside the root element: ${JSON.stringify(m[5].slice(0, 40))}`);
      continue;
    }
    const [, close, name, rawAttrs, selfClose] = m;
    if (close) {
      const open = stack.pop();
      if (!open || open.name !== name) throw new SyntaxError(`</${name}> closes <${open?.name ?? 'nothing'}>`);
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      if (a[1] in attrs) throw new SyntaxError(`<${name}> repeats attribute ${a[1]}`);
      attrs[a[1]] = decode(a[2] ?? a[3]);
    }
    const el: XmlElement = { name, attrs, children: [], text: '' };
    if (stack.length) stack[stack.length - 1].children.push(el);
    else if (root) throw new SyntaxError(`a second root element <${name}>`);
    else root = el;
    if (!selfClose) stack.push(el);
  }
  if (stack.length) throw new SyntaxError(`<${stack[stack.length - 1].name}> is not closed`);
  assert.ok(root, 'no root element');
  return root;
}

/** Every element under `el` (depth first, `el` included) that `pred` accepts. */
export function findAll(el: XmlElement, pred: (e: XmlElement) => boolean): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement): void => {
    if (pred(e)) out.push(e);
    e.children.forEach(walk);
  };
  walk(el);
  return out;
}

/** The groups vega draws a named mark into (class `<name>_marks`; vega writes '-' in names as '_'). */
export function markGroups(svg: XmlElement, name: string): XmlElement[] {
  const cls = `${name.replace(/-/g, '_')}_marks`;
  return findAll(svg, (e) => e.name === 'g' && (e.attrs.class ?? '').split(/\s+/).includes(cls));
}

/** The items of a named mark: the drawn children (path, text, …) of all its groups. */
export function markItems(svg: XmlElement, name: string): XmlElement[] {
  return markGroups(svg, name).flatMap((g) => g.children);
}

/** All text of an element and its descendants, joined by spaces. */
export function allText(el: XmlElement): string {
  return [el.text, ...el.children.map(allText)].join(' ').replace(/\s+/g, ' ').trim();
}
