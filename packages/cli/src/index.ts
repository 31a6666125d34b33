export { main } from './main.js'
export { createControlClient, type ControlClient, type EventSubscription } from './client.js'
export { createSseParser } from './sse.js'
