export { createUiServer, type UiServer, type UiServerInit } from './server.js'
export { setUiPassword } from './password-file.js'
export { DEFAULT_UI_LISTEN, dashboardUrl, parseListenAddress } from './listen-address.js'
