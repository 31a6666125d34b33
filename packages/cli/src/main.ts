import { Command, CommanderError, Option } from 'commander'
import { pauseCommand, resumeCommand } from './commands/control.js'
import { initCommand } from './commands/init.js'
import { cancelCommand, fetchCommand, removeCommand, retryCommand } from './commands/job-actions.js'
import { peersCommand, profilesCommand } from './commands/listings.js'
import { nodeCommand } from './commands/node.js'
import { repairCommand } from './commands/repair.js'
import { statusCommand } from './commands/status.js'
import { submitCommand } from './commands/submit.js'
import { uiPasswordCommand } from './commands/ui-password.js'
import { watchAddCommand, watchListCommand, watchRemoveCommand } from './commands/watch.js'
import { libraryAddCommand, libraryListCommand, libraryRemoveCommand, type LibraryOptions } from './commands/library.js'
import { scanCommand, type ScanOptions } from './commands/scan.js'
import { statsCommand } from './commands/stats.js'
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, reportError } from './report-error.js'

const DATA_DIR_HELP = 'data directory (default: $FFMESH_DATA_DIR, then $XDG_DATA_HOME/ffmesh)'

/** Runs the CLI; resolves to the exit code instead of exiting, so tests can call it in-process. */
export async function main (argv: string[]): Promise<number> {
  let exitCode = EXIT_OK
  const interrupt = new AbortController()
  const program = buildProgram(
    (code) => { exitCode = code },
    interrupt.signal
  )
  const onSigint = (): void => { interrupt.abort() }
  try {
    process.once('SIGINT', onSigint)
    if (argv.length === 0) {
      program.outputHelp({ error: true })
      return EXIT_USAGE
    }
    await program.parseAsync(argv, { from: 'user' })
    return exitCode
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE
    // Ctrl-C while a request was in flight: the person knows; an "aborted" error would be noise.
    if (interrupt.signal.aborted) return EXIT_INTERRUPTED
    return reportError(err, { json: argv.includes('--json') })
  } finally {
    process.off('SIGINT', onSigint)
  }
}

function buildProgram (setExit: (code: number) => void, signal: AbortSignal): Command {
  const program = new Command('ffmesh')
    .description('peer-to-peer media conversion mesh for a LAN')
    .exitOverride()
    .showHelpAfterError('(run `ffmesh --help` or `ffmesh <command> --help` for usage)')
    .configureOutput({
      // Usage errors follow the same `error CODE: message` shape as every other error.
      outputError: (text, write) => { write(text.replace(/^error: /, 'error BAD_ARGUMENTS: ')) }
    })
  // Subcommands inherit exitOverride and configureOutput when created with .command().
  const dataDir = (): Option => new Option('--data-dir <dir>', DATA_DIR_HELP)
  const run =
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- commander passes positional args then options
    <A extends any[]>(fn: (...args: A) => Promise<number>) =>
    async (...args: A): Promise<void> => {
      setExit(await fn(...args))
    }

  program.command('init').description('create a data dir: identity, swarm key (new or imported) and config.yaml')
    .addOption(dataDir())
    .option('--swarm-key-file <file>', 'join an existing mesh: import its swarm.key')
    .option('--json', 'print the result as JSON')
    .action(run((opts: { dataDir?: string, swarmKeyFile?: string, json?: boolean }) => initCommand(opts, signal)))

  program.command('node').description('run the node in the foreground (systemd runs this)')
    .addOption(dataDir())
    .option('--config <file>', "config file that overrides the data dir's config.yaml")
    .action(run((opts: { dataDir?: string, config?: string }) => nodeCommand(opts)))

  program.command('submit').description('convert files on the mesh')
    .argument('<file...>', 'files to convert')
    .requiredOption('--profile <name>', 'conversion profile (see `ffmesh profiles`)')
    .option('--out <dir>', 'output folder (default: beside each source)')
    .option('--wait', 'follow the jobs until they end; exit 0 only if all are done')
    .option('--handoff', 'hand the job to the peer with the most capacity (submit and walk away)')
    .option('--json', 'print {"id"} per file as JSON')
    .addOption(dataDir())
    .action(run((files: string[], opts: { profile: string }) => submitCommand(files, opts, signal)))

  program.command('status').description('show jobs, or one job and its units')
    .argument('[job]', 'job id (or a unique prefix)')
    .option('--json', 'print JSON')
    .option('--watch', 'follow live until the job ends (or, without JOB, until Ctrl-C)')
    .option('--mesh', 'list every job in the mesh, whichever node owns it')
    .option('--state <states>', 'only jobs in these states (comma-separated: queued,running,done,skipped,...)')
    .option('--limit <n>', 'at most N jobs')
    .option('--offset <n>', 'skip the first N jobs (with --limit: page through them)')
    .option('--newest', 'newest first')
    .option('--all', 'list every job (people see the 20 most recent and counts by state by default)')
    .addOption(dataDir())
    .action(run((job: string | undefined, opts: object) => statusCommand(job, opts, signal)))

  program.command('peers').description('list the nodes this node sees')
    .option('--json', 'print JSON').addOption(dataDir())
    .action(run((opts: object) => peersCommand(opts, signal)))

  program.command('pause').description("this node's worker takes no new units; running ones go back to their owners")
    .option('--drain', 'let the running units finish first')
    .option('--node <node>', 'pause another node of the mesh (peer id or name)')
    .option('--json', 'print the worker state as JSON').addOption(dataDir())
    .action(run((opts: { drain?: boolean }) => pauseCommand(opts, signal)))

  program.command('resume').description("this node's worker takes units again (within its schedule)")
    .option('--node <node>', 'resume another node of the mesh (peer id or name)')
    .option('--json', 'print the worker state as JSON').addOption(dataDir())
    .action(run((opts: object) => resumeCommand(opts, signal)))

  program.command('cancel').description('cancel a job').argument('<job>', 'job id (or a unique prefix)')
    .option('--json', 'print the job status as JSON').addOption(dataDir())
    .action(run((job: string, opts: object) => cancelCommand(job, opts, signal)))

  program
    .command('retry')
    .description('retry a failed or cancelled job')
    .argument('<job>', 'job id (or a unique prefix)')
    .option('--json', 'print the job status as JSON')
    .addOption(dataDir())
    .action(run((job: string, opts: object) => retryCommand(job, opts, signal)))

  program
    .command('rm')
    .description('remove a finished, failed or cancelled job: its record, blobs and held results (not its output)')
    .argument('<job>', 'job id (or a unique prefix)')
    .option('--json', 'print {"id","removed","blobsFreed"} as JSON')
    .addOption(dataDir())
    .action(run((job: string, opts: object) => removeCommand(job, opts, signal)))

  program
    .command('repair')
    .description('with the node stopped: save what a damaged job log still holds, and say what was lost')
    .option('--json', 'print the report as JSON')
    .addOption(dataDir())
    .action(run((opts: object) => repairCommand(opts, signal)))

  program.command('fetch').description("copy a finished job's output").argument('<job>', 'job id (or a unique prefix)')
    .option('--out <dir>', "folder to copy into (default: the job's output folder)")
    .option('--json', 'print {"path"} as JSON').addOption(dataDir())
    .action(run((job: string, opts: object) => fetchCommand(job, opts, signal)))

  program.command('profiles').description('list conversion profiles')
    .option('--json', 'print JSON').addOption(dataDir())
    .action(run((opts: object) => profilesCommand(opts, signal)))

  const watch = program.command('watch').description('watched folders: new files are submitted automatically')
  watch.command('add').description('watch a folder').argument('<path>', 'folder to watch')
    .requiredOption('--profile <name>', 'conversion profile')
    .requiredOption('--out <dir>', 'output folder')
    .option('--no-recursive', 'watch only the folder itself, not its subfolders')
    .option('--json', 'print JSON').addOption(dataDir())
    .action(run((dir: string, opts: { profile: string, out: string }) => watchAddCommand(dir, opts, signal)))
  watch.command('list').description('list watched folders')
    .option('--json', 'print JSON').addOption(dataDir())
    .action(run((opts: object) => watchListCommand(opts, signal)))
  watch.command('remove').description('stop watching a folder').argument('<path>', 'watched folder')
    .option('--json', 'print JSON').addOption(dataDir())
    .action(run((dir: string, opts: object) => watchRemoveCommand(dir, opts, signal)))

  const collect = (value: string, previous: string[] = []): string[] => [...previous, value]
  const libraryOptions = (cmd: Command): Command =>
    cmd
      .option('--profile <kind=name>', 'profile per media type: video=h265, audio=opus, image=webp (repeat)', collect)
      .option('--out <dir>', 'mirror the tree under this folder')
      .option('--replace', "put each verified output in its original's place (originals go to .ffmesh-trash/)")
      .option('--include <glob>', 'only files matching (repeat; a pattern without / matches the name)', collect)
      .option('--exclude <glob>', 'leave out files matching (repeat)', collect)
      .option('--min-size <bytes>', 'skip files smaller than this')
      .option('--min-bitrate <kbps>', 'skip files below this bit rate')
      .option(
        '--min-saving <percent>',
        'keep the original unless the output saves this much (an output as large as its source is never kept)'
      )
      .option('--keep-larger', 'keep every verified output, even one as large as its source (a copy for a device)')
      .option('--json', 'print JSON')
      .addOption(dataDir())

  const library = program
    .command('library')
    .description('libraries: folder trees converted with a profile per media type, rescanned on a schedule')
  libraryOptions(
    library.command('add').description('add a library; it is scanned at once').argument('<dir>', 'library folder')
  )
    .option('--poll', 'poll for changes (network mounts send no notifications)')
    .action(run((dir: string, opts: LibraryOptions) => libraryAddCommand(dir, opts, signal)))
  library.command('list').description('list libraries and their last scan')
    .option('--json', 'print JSON').addOption(dataDir())
    .action(run((opts: LibraryOptions) => libraryListCommand(opts, signal)))
  library.command('remove').description('stop converting a library').argument('<dir>', 'library folder')
    .option('--json', 'print JSON').addOption(dataDir())
    .action(run((dir: string, opts: LibraryOptions) => libraryRemoveCommand(dir, opts, signal)))

  libraryOptions(
    program
      .command('scan')
      .description('convert a folder tree once, with a profile per media type')
      .argument('<dir>', 'folder to scan')
  )
    .option('--dry-run', 'make no job; say what would happen to each file and why')
    .option('--wait', 'exit when every job of the scan has ended; non-zero if any failed')
    .action(run((dir: string, opts: ScanOptions) => scanCommand(dir, opts, signal)))

  program.command('stats').description('files converted, skipped and failed, bytes saved, conversion time per node')
    .option('--json', 'print JSON').addOption(dataDir())
    .action(run((opts: object) => statsCommand(opts, signal)))

  const ui = program.command('ui').description('the web dashboard (ui.listen, 127.0.0.1:7676 by default)')
  ui.command('password')
    .description(
      'set the dashboard password (asked twice on a terminal, else the first line of stdin); needed to open it to the LAN'
    )
    .option('--json', 'print JSON')
    .addOption(dataDir())
    .action(run((opts: object) => uiPasswordCommand(opts, signal)))

  return program
}
