import { request } from 'node:http'

/** A control API answer: the HTTP status and the parsed JSON body (null when there is none). */
export interface ControlReply { status: number, body: unknown }

/**
 * One request to a node's control API over its unix socket, as the CLI, the dashboard or a script
 * makes it. An object body is sent as JSON, a string as it is (to send what is not JSON).
 */
export async function controlCall (
  socketPath: string,
  method: string,
  url: string,
  body?: unknown
): Promise<ControlReply> {
  const payload = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)
  return await new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        method,
        path: url,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
      },
      async res => {
        const chunks: Buffer[] = []
        for await (const c of res) chunks.push(c as Buffer)
        const text = Buffer.concat(chunks).toString()
        resolve({ status: res.statusCode ?? 0, body: text === '' ? null : JSON.parse(text) })
      }
    )
    req.on('error', reject)
    req.end(payload)
  })
}
