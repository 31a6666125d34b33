/**
 * One shape for every long-lived part of a node (mesh, owner, worker, watches, servers): node.ts
 * builds them in dependency order, starts them in that order and stops them in reverse.
 */
export interface Component {
  /** Begins work: registers handlers, arms timers, opens servers. Called once. */
  start(): Promise<void>
  /**
   * Ends work and removes every handler and timer that start registered, so a stopped node holds
   * no reference from a shared emitter. Safe before start and twice.
   */
  stop(): Promise<void>
}

/** Unsubscribe functions collected while starting, all called on stop. */
export interface Subscriptions {
  add(unsubscribe: () => void): void
  /** Calls every unsubscribe once, newest first. */
  clear(): void
}

export function createSubscriptions (): Subscriptions {
  const all: Array<() => void> = []
  return {
    add (unsubscribe) { all.push(unsubscribe) },
    clear () {
      for (const unsubscribe of all.splice(0).reverse()) unsubscribe()
    }
  }
}

/** Components started in order; stopping them goes in reverse and goes on past a failed stop. */
export interface ComponentStack {
  /** Starts `component` and keeps it for stop; a component that fails to start is not kept. */
  start<T extends Component>(name: string, component: T): Promise<T>
  stop(onError: (name: string, err: unknown) => void): Promise<void>
}

export function createComponentStack (): ComponentStack {
  const started: Array<{ name: string, component: Component }> = []
  return {
    async start (name, component) {
      await component.start()
      started.push({ name, component })
      return component
    },
    async stop (onError) {
      for (const { name, component } of started.splice(0).reverse()) {
        await component.stop().catch(err => onError(name, err))
      }
    }
  }
}

/** A part whose start or stop returns nothing (or has no start), as a Component. */
export function asComponent (part: { start?: () => unknown, stop: () => unknown }): Component {
  return {
    async start () { await part.start?.() },
    async stop () { await part.stop() }
  }
}
