import fs from 'node:fs/promises'
import path from 'node:path'

/**
 * Copies a video's sidecars (subtitles, .nfo, posters) next to its output. Each goes through a
 * hidden temp name and appears complete. A copy already there stays unless its sidecar was written
 * after it: subtitles a tool adds or improves later reach the output with the next scan, and a copy
 * edited in the output tree since is left as it is.
 */
export async function copySidecars (sidecars: readonly string[], outDir: string): Promise<string[]> {
  const copied: string[] = []
  for (const file of sidecars) {
    const dest = path.join(outDir, path.basename(file))
    if (dest === file || !await changedSince(file, dest)) continue
    const tmp = path.join(outDir, `.ffmesh-sidecar-${process.pid}-${path.basename(file)}`)
    try {
      await fs.copyFile(file, tmp)
      await fs.rename(tmp, dest)
      copied.push(dest)
    } catch (err) {
      await fs.rm(tmp, { force: true })
      // A sidecar removed since the scan is not worth failing a verified conversion for.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
    }
  }
  return copied
}

/** Whether `file` was written after its copy `dest`, or there is no copy. */
async function changedSince (file: string, dest: string): Promise<boolean> {
  const [source, copy] = await Promise.all([fs.stat(file).catch(() => null), fs.stat(dest).catch(() => null)])
  return copy == null || (source != null && source.mtimeMs > copy.mtimeMs)
}
