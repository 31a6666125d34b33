import { FfmeshError, ErrorCodes, type Profile } from '@ffmesh/protocol'
import { keptCoverArt } from './cover-art.js'
import { mustPassOn } from './disk-full.js'
import { attachmentArgs, CHAPTER_CONTAINERS, keepsAudio, keptSubtitles, subtitleArgs } from './profile-args.js'
import { tallyMatroska } from './matroska-tally.js'
import { outputPackets } from './output-packets.js'
import { probeFromTally } from './output-probe.js'
import type { StreamSpan } from './packet-list.js'
import { mainVideo, readProbe, tag, toSeconds, type MediaInfo, type ProbeResult } from './probe.js'
import type { FfmpegRunner } from './runner.js'

/**
 * Audio encoders pad the end of the stream to a whole frame and add priming at the start (AAC
 * 1024 samples, Opus 312, MP3 1152 plus decoder delay): at 8 kHz two MP3 frames are 0.29 s.
 */
export const AUDIO_DURATION_TOLERANCE_SEC = 0.3
/** One frame at this rate when the source does not say its rate. */
const FALLBACK_FRAME_RATE = 24

export interface VerifyInit { info: MediaInfo, profile: Profile, file: string }

/**
 * Throws VERIFY_FAILED unless the output has every frame of the source (equal count), the same
 * duration as what the source's kept streams really span, its video and each audio track ending
 * where the source's do (within one frame, plus the audio encoder's padding when audio is kept;
 * see expectedDuration), and every stream, attachment, cover picture, chapter and the title the
 * profile keeps.
 */
export async function verifyOutput (
  runner: FfmpegRunner,
  init: VerifyInit,
  options: { signal?: AbortSignal } = {}
): Promise<void> {
  const { info, profile } = init
  let probe: ProbeResult
  let spans: Map<number, StreamSpan>
  try {
    // One read of the output lists its picture and sound packets: their count and where they end.
    // A Matroska output's walk says what ffprobe would about its streams, too (output-probe.ts).
    const tally = await tallyMatroska(init.file, options)
    probe = (tally != null ? probeFromTally(tally) : null) ?? (await readProbe(runner, init.file, options))
    const timed = (probe.streams ?? [])
      .filter(s => s.codec_type === 'audio' || s === mainVideo(probe))
      .map(s => s.index)
    spans = await outputPackets(runner, init.file, probe, timed, tally, options)
  } catch (err) {
    if (mustPassOn(err, options.signal)) throw err
    throw failed(`the output cannot be read: ${(err as Error).message}`)
  }
  const streams = probe.streams ?? []
  const count = (type: string): number =>
    streams.filter(s => s.codec_type === type && s.disposition?.attached_pic !== 1).length
  const duration = toSeconds(probe.format?.duration) ?? 0
  const expected = expectedDuration(info, profile)

  if (profile.kind === 'image') {
    const video = mainVideo(probe)
    if (video == null) throw failed('the output has no picture')
    return
  }

  if (profile.kind === 'video') {
    const video = mainVideo(probe)
    if (video == null) throw failed('the output has no video stream')
    const frames = spans.get(video.index)?.packets ?? 0
    const frameSec = 1 / (profile.video?.frameRate ?? info.frameRate ?? FALLBACK_FRAME_RATE)
    // The plan counts the source (probeSource leaves a video's count to it); a plan without a count is a bug here.
    if (profile.video?.frameRate == null && info.videoFrames == null) {
      throw failed("the source's frame count was never taken")
    }
    if (profile.video?.frameRate == null && frames !== info.videoFrames) {
      throw failed(`the output has ${frames} video frames, the source ${String(info.videoFrames)}`)
    }
    const audioKept = keepsAudio(profile) && info.audioTracks > 0
    const tolerance = frameSec + (audioKept ? AUDIO_DURATION_TOLERANCE_SEC : 0)
    checkDuration(duration, expected, tolerance)
    checkStreamEnds(info, profile, probe, spans, tolerance)
    const audio = count('audio')
    const expectedAudio = keepsAudio(profile) ? info.audioTracks : 0
    if (audio !== expectedAudio) throw failed(`the output has ${audio} audio tracks, expected ${expectedAudio}`)
    const expectedSubs = subtitleArgs(info, profile, 0).kept
    const subs = count('subtitle')
    if (subs !== expectedSubs) throw failed(`the output has ${subs} subtitle tracks, expected ${expectedSubs}`)
  } else {
    checkDuration(duration, expected, AUDIO_DURATION_TOLERANCE_SEC)
    checkStreamEnds(info, profile, probe, spans, AUDIO_DURATION_TOLERANCE_SEC)
    const audio = count('audio')
    if (audio !== info.audioTracks) throw failed(`the output has ${audio} audio tracks, the source ${info.audioTracks}`)
  }

  const pictures = streams.filter(s => s.disposition?.attached_pic === 1).length
  const expectedPictures = keptCoverArt(info, profile).length
  if (pictures !== expectedPictures) {
    throw failed(`the output has ${pictures} cover pictures, expected ${expectedPictures}`)
  }
  const expectedAttachments =
    attachmentArgs(info, profile, 0).length > 0 ? info.streams.filter(s => s.type === 'attachment').length : 0
  if (count('attachment') !== expectedAttachments) {
    throw failed(`the output has ${count('attachment')} attachments, expected ${expectedAttachments}`)

  }
  if (CHAPTER_CONTAINERS.has(profile.container)) {
    const chapters = probe.chapters?.length ?? 0
    if (chapters !== info.chapters) throw failed(`the output has ${chapters} chapters, the source ${info.chapters}`)
    const title = tag(probe.format?.tags, 'title')
    if (info.title != null && title !== info.title) {
      throw failed(`the output's title is ${JSON.stringify(title)}, the source's ${JSON.stringify(info.title)}`)
    }
  }
}

/**
 * How long the output must last: from the source's start to where the last stream the output
 * keeps really ends, as the plan read the source's packets (MediaInfo.streamEnds). The header's
 * duration only where nothing was measured (a job logged by an older node): a recording cut
 * short keeps the full length in its header, and a joined TS's header spans the jump.
 */
export function expectedDuration (info: MediaInfo, profile: Profile): number {
  const ends = info.streamEnds
  if (ends == null) return info.durationSec
  const kept = [
    ...(profile.kind === 'video' && info.videoStreamIndex != null ? [info.videoStreamIndex] : []),
    ...info.streams
      .filter(s => s.type === 'audio' && (profile.kind === 'audio' || keepsAudio(profile)))
      .map(s => s.index),
    ...keptSubtitles(info, profile).map(s => s.stream.index)
  ]
  const last = kept.map(i => ends[String(i)]).filter((t): t is number => t != null)
  return last.length > 0 ? Math.max(0, Math.max(...last) - info.startTime) : info.durationSec
}

/**
 * The output's video and each of its audio tracks (in the source's order) end where the source's
 * do, from the source's start: a track a second short fails, though the container's duration,
 * set by the longest track, would not show it. Nothing to check where the plan measured nothing.
 */
function checkStreamEnds (
  info: MediaInfo,
  profile: Profile,
  probe: ProbeResult,
  spans: Map<number, StreamSpan>,
  tolerance: number
): void {
  const ends = info.streamEnds
  if (ends == null) return
  const pairs: Array<[string, number | undefined, number | undefined]> = []
  const video = mainVideo(probe)
  if (profile.kind === 'video' && video != null && info.videoStreamIndex != null) {
    pairs.push(['video', info.videoStreamIndex, video.index])
  }
  if (profile.kind === 'audio' || keepsAudio(profile)) {
    const outAudio = (probe.streams ?? []).filter(s => s.codec_type === 'audio')
    info.streams
      .filter(s => s.type === 'audio')
      .forEach((s, i) => pairs.push([`audio track ${i + 1}`, s.index, outAudio[i]?.index]))
  }
  for (const [name, source, output] of pairs) {
    const want = source != null ? ends[String(source)] : undefined
    const got = output != null ? spans.get(output)?.end : undefined
    if (want == null || got == null) continue
    if (Math.abs(got - (want - info.startTime)) > tolerance) {
      throw failed(
        `the output's ${name} ends at ${got.toFixed(3)} s, the source's at ${(want - info.startTime).toFixed(3)} s (tolerance ${tolerance.toFixed(3)} s)`
      )
    }
  }
}

function checkDuration (actual: number, expected: number, tolerance: number): void {
  if (Math.abs(actual - expected) > tolerance) {
    throw failed(
      `the output lasts ${actual.toFixed(3)} s, the source ${expected.toFixed(3)} s (tolerance ${tolerance.toFixed(3)} s)`
    )
  }
}

function failed (reason: string): FfmeshError {
  return new FfmeshError(ErrorCodes.VERIFY_FAILED, `output verification failed: ${reason}; the job will not publish it`)
}
