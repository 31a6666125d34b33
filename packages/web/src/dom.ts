/**
 * The dashboard's whole rendering layer: build elements, and update lists of them in place by
 * key. Text always goes in as text (textContent), never as HTML, so a file name or an error
 * message from the node cannot become markup.
 */

export type Child = Node | string | number | null | undefined | false | Child[]
type Listener = (event: Event) => void
export type Attrs = Record<string, string | number | boolean | null | undefined | Listener>

const SVG_NS = 'http://www.w3.org/2000/svg'

function apply (el: Element, attrs: Attrs | null | undefined): void {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (typeof value === 'function') el.addEventListener(name.slice(2), value)
    else setAttr(el, name, value)
  }
}

function append (el: Element, children: Child[]): void {
  for (const child of children) {
    if (child == null || child === false) continue
    if (Array.isArray(child)) append(el, child)
    else el.append(typeof child === 'number' ? String(child) : child)
  }
}

/** `h('a', { href: '#/jobs', onclick: fn }, 'Jobs')`: keys starting with `on` add listeners. */
export function h<K extends keyof HTMLElementTagNameMap> (
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  apply(el, attrs)
  append(el, children)
  return el
}

export function svg<K extends keyof SVGElementTagNameMap> (
  tag: K,
  attrs?: Attrs | null,
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag)
  apply(el, attrs)
  append(el, children)
  return el
}

/** Sets an attribute only when it changes (false or null removes it, true sets it empty). */
export function setAttr (el: Element, name: string, value: string | number | boolean | null | undefined): void {
  if (value == null || value === false) {
    if (el.hasAttribute(name)) el.removeAttribute(name)
    return
  }
  const text = value === true ? '' : String(value)
  if (el.getAttribute(name) !== text) el.setAttribute(name, text)
}

/** Sets text only when it changes, so a redraw touches only what moved. */
export function setText (el: Node, text: string | number): void {
  const value = String(text)
  if (el.textContent !== value) el.textContent = value
}

/** Replaces an element's children (for parts that are rebuilt whole, such as an error box). */
export function replace (el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, children)
}

const keyedChildren = new WeakMap<Element, Map<string, Element>>()

/**
 * Makes `parent`'s children one element per item, in order: elements are created once per key,
 * updated in place, moved when the order changes, removed when their item goes. An element keeps
 * its identity between redraws, so a button someone is pressing is not swapped under the finger.
 */
export function keyed<T, E extends Element> (
  parent: Element,
  items: readonly T[],
  key: (item: T) => string,
  create: (item: T) => E,
  update: (el: E, item: T) => void
): void {
  const before = keyedChildren.get(parent) ?? new Map<string, Element>()
  const after = new Map<string, Element>()
  let cursor: ChildNode | null = parent.firstChild
  for (const item of items) {
    const k = key(item)
    let el = before.get(k) as E | undefined
    if (el == null) el = create(item)
    update(el, item)
    after.set(k, el)
    if (cursor === el) cursor = el.nextSibling
    else parent.insertBefore(el, cursor)
  }
  for (const [k, el] of before) if (!after.has(k)) el.remove()
  keyedChildren.set(parent, after)
}
