import { watch, type FSWatcher } from "node:fs";
import path from "node:path";
import { entryFileBuilder, type EntryFileBuilder } from "../sandbox/bundler.js";

/** A build of the watched file: its bundle, or why there is none (`EDDY_BUNDLE_FAILED` with diagnostics, or any other error). */
export type BuildResult = { ok: true; code: string } | { ok: false; error: unknown };

export interface BundleWatcherOptions {
  /** Quiet time after the last change before building: an editor's save, or a formatter run on save, is a burst of writes. */
  debounceMs: number;
  /** Called with every build, the first included; the next build waits until it resolves. */
  onBuild(result: BuildResult): Promise<void>;
}

/**
 * Watches a function file and everything it imports, and bundles it again after each change with
 * esbuild's incremental context. The files come from each build's metafile; their folders are watched,
 * not the files, so that editors that save by writing a new file and renaming it are seen too.
 * Packages (anything under node_modules) are not watched.
 */
export class BundleWatcher {
  private readonly folders = new Map<string, FSWatcher>();
  private inputs = new Set<string>();
  private lastFailed = false;
  private timer: NodeJS.Timeout | undefined;
  /** The build in progress (with its onBuild), and whether a change came in during it. */
  private running: Promise<void> | undefined;
  private again = false;
  private closed = false;

  private constructor(
    private readonly file: string,
    private readonly builder: EntryFileBuilder,
    private readonly options: BundleWatcherOptions,
  ) {}

  /** Builds the file once (calling onBuild), then on every change until close(). */
  static async start(file: string, options: BundleWatcherOptions): Promise<BundleWatcher> {
    const watcher = new BundleWatcher(path.resolve(file), await entryFileBuilder(file), options);
    watcher.watchFiles([watcher.file]);
    watcher.build();
    await watcher.running;
    return watcher;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    for (const folder of this.folders.values()) folder.close();
    this.folders.clear();
    await this.running;
    await this.builder.dispose();
  }

  private changed(file: string): void {
    // After a failed build any file of a watched folder may be the fix (e.g. the missing module an import names).
    if (this.closed || !(this.inputs.has(file) || this.lastFailed)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.build(), this.options.debounceMs);
  }

  /** Builds now, or once more after the build in progress when one is running: builds and deploys never overlap. */
  private build(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const result = await this.builder.build().then(
          ({ code, inputs }): BuildResult => {
            this.watchFiles(inputs);
            return { ok: true, code };
          },
          (error: unknown): BuildResult => ({ ok: false, error }),
        );
        this.lastFailed = !result.ok;
        await this.options.onBuild(result);
      } while (this.again && !this.closed);
      this.running = undefined;
    })();
  }

  /** Watches exactly these files from now on (and always the entry file): a dropped import stops counting. */
  private watchFiles(files: string[]): void {
    this.inputs = new Set([this.file, ...files.filter((f) => !f.split(path.sep).includes("node_modules"))]);
    const wanted = new Set([...this.inputs].map((f) => path.dirname(f)));
    for (const [folder, watcher] of this.folders) {
      if (wanted.has(folder)) continue;
      watcher.close();
      this.folders.delete(folder);
    }
    for (const folder of wanted) {
      if (this.folders.has(folder)) continue;
      try {
        const watcher = watch(folder, (_event, name) => {
          if (name !== null) this.changed(path.join(folder, name.toString()));
        });
        // A folder that goes away is simply no longer watched; the next successful build watches what exists.
        watcher.on("error", () => {
          watcher.close();
          this.folders.delete(folder);
        });
        this.folders.set(folder, watcher);
      } catch {
        // A folder that does not exist (any more) cannot be watched: nothing in it can change either.
      }
    }
  }
}
