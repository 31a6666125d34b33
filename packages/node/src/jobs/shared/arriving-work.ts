/**
 * Work a submission has said is still coming. `ffmesh submit a.mp4 b.mp4 c.mp4` sends one request
 * per file, and the owner plans the first file while the others are still on their way: alone on
 * an idle mesh, it would be cut into segments to keep every slot busy, though the next files fill
 * those slots within seconds. So each request says what follows it in the same submission, and the
 * cut policy counts that as work the mesh will have.
 */

/** What the rest of a submission holds after the file of this request. */
export interface FollowingFiles { files: number, bytes: number }

export interface ArrivingWork {
  /**
   * Notes what follows the file just taken in (`durationSec` and `bytes` are that file's own). A
   * request that says nothing (a watched folder's) leaves the submission's promise as it was; the
   * last request of a submission says no files follow, which ends it.
   */
  note(following: FollowingFiles | undefined, file: { durationSec: number, bytes: number }): void
  /** Media seconds still expected, taking the files to come at the bitrate of the last one taken in. */
  seconds(): number
}

/**
 * A submission that stops midway (the client killed) leaves its promise behind: it counts for this
 * long after its last request, then no more. Each request of a submission takes well under this.
 */
export const ARRIVING_TTL_MS = 30_000

export function createArrivingWork (clock: () => number): ArrivingWork {
  let expected: { seconds: number, until: number } | null = null
  return {
    note (following, file) {
      if (following == null) return
      if (following.files === 0 || following.bytes === 0 || file.bytes <= 0) {
        expected = null
        return
      }
      const secPerByte = file.durationSec / file.bytes
      expected = { seconds: following.bytes * secPerByte, until: clock() + ARRIVING_TTL_MS }
    },
    seconds () {
      if (expected == null || clock() > expected.until) return 0
      return expected.seconds
    }
  }
}
