import fs from 'node:fs/promises'
import path from 'node:path'

/**
 * Copies a video's sidecars (subtitles, .nfo, posters) next to its output. Each goes through a
 * hidden temp name and appears complete; one already there (an earlier try) is left as it is.
 */
export async function copySidecars (sidecars: readonly string[], outDir: string): Promise<string[]> {
  const copied: string[] = []
  for (const file of sidecars) {
    const dest = path.join(outDir, path.basename(file))
    if (dest === file || await fs.access(dest).then(() => true, () => false)) continue
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
