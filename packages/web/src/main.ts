import type { UiSession } from '@ffmesh/protocol'
import { loadAdvice } from './advice.js'
import { createApi } from './api.js'
import { replace } from './dom.js'
import { connectEvents, type Live } from './live.js'
import { API, UI } from './routes.js'
import { createStore, type Store } from './store.js'
import { errorBox } from './views/error-box.js'
import { createLoginView } from './views/login.js'
import { createShell } from './views/shell.js'

/** How long the page waits before asking again after the node did not answer (it may be restarting). */
const RETRY_MS = 2_000

const app = document.getElementById('app') as HTMLElement
const assets = app.dataset.assets ?? ''

let running: { store: Store, live: Live, dispose(): void } | null = null

function stopApp (): void {
  running?.live.close()
  running?.store.stop()
  running?.dispose()
  running = null
}

const api = createApi({
  onSignedOut: () => {
    if (running == null) return
    stopApp()
    void boot()
  }
})

function showLogin (): void {
  replace(app, createLoginView(api, session => { startApp(session) }))
}

function startApp (session: UiSession): void {
  stopApp()
  api.setCsrf(session.csrf)
  const store = createStore(api, session)
  const ctx = { store, api }
  const signOut = session.passwordSet
    ? () => { void api.send('POST', UI.logout).finally(() => { stopApp(); showLogin() }) }
    : null
  const shell = createShell(ctx, { onSignOut: signOut })
  replace(app, shell.root)
  const live = connectEvents({
    url: API.events,
    onEvent: store.onEvent,
    onReset: store.onReset,
    onConnection: store.setConnection,
    // The node refused the stream: a session that ended (a restart, a new password) or a node
    // going down. Ask who we are; sign in again, or reconnect with the new session.
    onRefused: () => {
      setTimeout(() => {
        // Signed out or started anew meanwhile: this stream's page is gone, and so is its reconnect.
        if (running?.live !== live) return
        api.get<UiSession>(UI.session).then(next => {
          if (!next.signedIn) {
            stopApp()
            showLogin()
            return
          }
          api.setCsrf(next.csrf)
          live.reconnect()
        }, () => { live.reconnect() })
      }, RETRY_MS)
    }
  })
  running = { store, live, dispose: shell.dispose }
  void store.loadAll()
}

async function boot (): Promise<void> {
  for (;;) {
    try {
      const session = await api.get<UiSession>(UI.session)
      if (session.signedIn) startApp(session)
      else showLogin()
      return
    } catch (err) {
      replace(app, errorBox(err as { code: string, message: string }))
      await new Promise(resolve => setTimeout(resolve, RETRY_MS))
    }
  }
}

// The advice is needed only once an error shows: it loads beside the first requests.
void loadAdvice(assets)
void boot()
