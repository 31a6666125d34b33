import type { ConvertingUnit, PauseRequest } from '@ffmesh/protocol'
import { h, keyed, replace, setAttr, setText } from '../dom.js'
import { formatAgo, formatBytes, formatPercent, shortId } from '../format.js'
import { pausedByPerson, steerPath, workBadges, type MeshNodeView } from '../mesh-model.js'
import { showError } from './error-box.js'
import { actionButton, type View, type ViewContext } from './view.js'

interface Card {
  name: HTMLElement
  badges: HTMLElement
  slots: HTMLElement
  disk: HTMLElement
  encoders: HTMLElement
  version: HTMLElement
  converting: HTMLElement
  controls: HTMLElement
}

/**
 * The mesh: every node, online or away, its slots, disk, encoders, whether it takes work, and what
 * it converts now.
 */
export function createMeshView (ctx: ViewContext): View {
  const { store } = ctx
  const cards = new WeakMap<Element, Card>()
  const summary = h('p', { class: 'summary' })
  const grid = h('div', { class: 'nodes' })
  const root = h('section', { class: 'page mesh-page' }, h('h2', null, 'Mesh'), summary, grid)

  /**
   * Pause, drain and resume: this node through its own routes, another through the mesh (its
   * `mesh.remoteControl` decides; a refusal shows as REMOTE_CONTROL_REFUSED with its advice).
   * A card is made once per node id, and a node's id and whether it is this one never change.
   */
  function controls (node: MeshNodeView): HTMLElement {
    const problem = h('div', { class: 'action-error' })
    const report = (err: unknown): void => { showError(problem, err) }
    const button = (label: string, cls: string, action: 'pause' | 'resume', body: PauseRequest): HTMLButtonElement =>
      actionButton(label, cls, report, async () => {
        await ctx.api.send('POST', steerPath(node, action), body)
        await store.refreshNodes()
      })
    return h('div', { class: 'actions' },
      button('Pause', 'act-pause', 'pause', {}),
      button('Drain', 'act-drain', 'pause', { drain: true }),
      button('Resume', 'act-resume', 'resume', {}),
      problem)
  }

  function create (node: MeshNodeView): HTMLElement {
    const card: Card = {
      name: h('h3'),
      badges: h('p', { class: 'badges' }),
      slots: h('dd'),
      disk: h('dd'),
      encoders: h('dd', { class: 'encoders' }),
      version: h('dd'),
      converting: h('ul', { class: 'converting' }),
      controls: controls(node)
    }
    const el = h(
      'article',
      { class: 'card node' },
      card.name,
      card.badges,
      h(
        'dl',
        { class: 'facts' },
        h('dt', null, 'slots'),
        card.slots,
        h('dt', null, 'free disk'),
        card.disk,
        h('dt', null, 'encoders'),
        card.encoders,
        h('dt', null, 'version'),
        card.version
      ),
      card.converting,
      card.controls
    )
    setAttr(el, 'data-id', node.id)
    cards.set(el, card)
    return el
  }

  function convertingItem (c: ConvertingUnit): HTMLElement {
    return h(
      'li',
      null,
      h('a', { href: `#/jobs/${encodeURIComponent(c.jobId)}` }, `job ${shortId(c.jobId)}`),
      ` unit ${c.index} · ${c.phase} `,
      h('progress', { max: 1, value: c.progress }),
      ` ${formatPercent(c.progress)}`
    )
  }

  function update (el: HTMLElement, node: MeshNodeView): void {
    const card = cards.get(el) as Card
    const now = Date.now()
    setAttr(el, 'data-online', node.online)
    setAttr(el, 'data-name', node.name)
    setText(card.name, node.name)
    replace(
      card.badges,
      node.self ? h('span', { class: 'badge self' }, 'this node') : null,
      h(
        'span',
        { class: `badge ${node.online ? 'online' : 'away'}` },
        node.online ? 'online' : `away, last seen ${formatAgo(node.lastSeen, now)}`
      ),
      ...workBadges(node, now).map(b => h('span', { class: `badge ${b.kind}` }, b.text))
    )
    const busy = node.slotsTotal - node.slotsFree
    setText(
      card.slots,
      node.slotsTotal === 0 ? 'none (submits only)' : `${busy} busy, ${node.slotsFree} free of ${node.slotsTotal}`
    )
    setText(card.disk, formatBytes(node.diskFree))
    setText(card.encoders, node.encoders.length === 0 ? '–' : node.encoders.join(', '))
    setText(card.version, node.version)
    replace(
      card.converting,
      ...(node.converting.length === 0
        ? [h('li', { class: 'idle' }, 'converting nothing')]
        : node.converting.map(convertingItem))
    )
    // A node that is away cannot be asked; it shows its last state only.
    setAttr(card.controls, 'hidden', !node.online)
    const [pause, drain, resume] = [...card.controls.querySelectorAll('button')] as HTMLButtonElement[]
    const paused = pausedByPerson(node)
    setAttr(pause as Element, 'hidden', paused)
    setAttr(drain as Element, 'hidden', paused)
    setAttr(resume as Element, 'hidden', !node.paused)
  }

  return {
    root,
    update () {
      const nodes = store.state.nodes
      const online = nodes.filter(n => n.online)
      const total = online.reduce((n, node) => n + node.slotsTotal, 0)
      const free = online.reduce((n, node) => n + node.slotsFree, 0)
      setText(
        summary,
        `${nodes.length} node${nodes.length === 1 ? '' : 's'}, ${online.length} online; ${total - free} of ${total} slots busy`
      )
      keyed(grid, nodes, n => n.id, create, update)
    }
  }
}
