/**
 * The patch stack: a queue directory (series + patch files, shareable and versioned) and
 * this tree's state in `.pq/`. Every operation takes the tree lock, replays an interrupted
 * journal if there is one, plans its changes in memory (WorkingSet), and only then writes
 * through the journal. Refusals leave the tree and the queue untouched.
 */
import { existsSync, mkdirSync, statSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { PqError } from "../errors.js";
import { ignoreEvents, type EventSink } from "../core/events.js";
import { GitRepo } from "../git/repo.js";
import { formatHeader, parseHeader, type PatchHeader } from "../mail/header.js";
import { bytesToName, nameToBytes, parsePatch } from "../patch/index.js";
import { fileStat, readText, sha1, writeAtomic, writeText } from "../tree/files.js";
import { TreeLock } from "../tree/lock.js";
import { ObjectStore } from "../tree/objects.js";
import { checkTreePath } from "../tree/paths.js";
import { applyPatchText, describeFailures, describeFuzz, type PatchApplication } from "./apply-patch.js";
import { PushCache, StatCache } from "./caches.js";
import { commitWrites, recoverJournal } from "./journal.js";
import { buildPatchDiff } from "./refresh-diff.js";
import { baselineVersion, expectedVersions, planRefresh, type PlanContext } from "./refresh-plan.js";
import { isPushable, Series, validateGuardName, type SeriesEntry } from "./series.js";
import { flattenName, movePatchFile, movePatchOut, resolveName, validatePatchName } from "./names.js";
import { ensureStateDir, loadState, saveState, statePaths, versionExec, versionId, type AppliedPatch, type StackState, type Version } from "./state.js";
import { WorkingSet } from "./workset.js";
import { diffOf, dropDiffstat, headerOf, joinHeaderAndDiff, replaceMessage, splitMessage } from "./patch-text.js";

export { diffOf, headerOf } from "./patch-text.js";

export interface StackOptions {
  tree: string;
  queue?: string;
  onEvent?: EventSink;
}

/** A position in the series: a patch name, or a 1-based index (0 = before the first patch). */
export type StackTarget = string | number;

export interface PushedPatch {
  name: string;
  /** Taken from the push cache: inputs unchanged since it was last applied. */
  cached: boolean;
  /** Hunks that needed an offset or fuzz ("file: Hunk #2 succeeded at 40 with fuzz 1."). */
  notes: string[];
  needsRefresh?: "forced" | "conflict";
  rejects?: string[];
  /** Files whose diff carried no data ("Binary files ... differ"): created empty or left as they were. */
  binaryWithoutData?: string[];
}

export interface PushReport {
  pushed: PushedPatch[];
  top: string | null;
}

export interface PopReport {
  popped: string[];
  top: string | null;
  backup?: string;
}

export interface RefreshReport {
  name: string;
  files: string[];
  /** Untracked files that were not taken (pq add them). */
  untracked: string[];
}

export interface StackStatus {
  top: string | null;
  /** The top patch's file differs from the version that was applied (e.g. after a pull). */
  topChangedInQueue?: boolean;
  applied: number;
  unapplied: number;
  needsRefresh?: "forced" | "conflict";
  /** Files whose changes are not yet in the top patch (what refresh would take). */
  pending: string[];
  untracked: string[];
  guards: string[];
}

export class Stack {
  private store: ObjectStore;
  private statCache: StatCache;
  private pushCache: PushCache;
  private lock: TreeLock | null = null;
  /** Opened on first use: push and pop never need git, and starting it costs a process. */
  private gitRepo: Promise<GitRepo | null> | undefined;

  private constructor(
    readonly tree: string,
    readonly queueDir: string,
    private state: StackState,
    git: GitRepo | null | undefined,
    private onEvent: EventSink,
  ) {
    if (git !== undefined) this.gitRepo = Promise.resolve(git);
    const p = statePaths(tree);
    this.store = new ObjectStore(p.objects);
    this.statCache = new StatCache(p.statCache);
    this.pushCache = new PushCache(p.pushCache);
  }

  // ---------------------------------------------------------------- opening

  static async init(opts: StackOptions): Promise<Stack> {
    const tree = resolve(opts.tree);
    if (!existsSync(tree) || !statSync(tree).isDirectory()) throw new PqError("not-found", `${tree} is not a directory`);
    if (loadState(tree)) {
      throw new PqError("exists", `${tree} already has a pq stack`, ["use it as it is, or remove .pq/ to start over (pop -a first)"]);
    }
    const git = await GitRepo.open(tree);
    if (!git) throw new PqError("no-queue", `${tree} is not a git work tree`, ["run git init first: pq keeps its patches on top of a git tree"]);
    const queueAbs = resolve(tree, opts.queue ?? "patches");
    const rel = relative(tree, queueAbs);
    const queue = rel.startsWith("..") || isAbsolute(rel) ? queueAbs : rel || ".";
    mkdirSync(queueAbs, { recursive: true });
    if (!existsSync(join(queueAbs, "series"))) writeAtomic(join(queueAbs, "series"), "");
    ensureStateDir(tree);
    const state: StackState = { version: 1, queue, guards: [], applied: [] };
    saveState(tree, state);
    return new Stack(tree, queueAbs, state, git, opts.onEvent ?? ignoreEvents);
  }

  static async open(opts: StackOptions): Promise<Stack> {
    const tree = resolve(opts.tree);
    const state = loadState(tree);
    if (!state) throw new PqError("no-queue", `no pq stack in ${tree}`, ["run pq init (or pass --tree DIR)"]);
    const queueDir = resolve(tree, state.queue);
    if (opts.queue && resolve(opts.queue) !== queueDir && resolve(tree, opts.queue) !== queueDir) {
      throw new PqError("usage", `this tree's stack uses the queue ${queueDir}, not ${opts.queue}`);
    }
    const stack = new Stack(tree, queueDir, state, undefined, opts.onEvent ?? ignoreEvents);
    if (existsSync(statePaths(tree).journal)) await stack.withLock(async () => undefined);
    return stack;
  }

  /** Opens the stack, or finds the nearest enclosing tree that has one. */
  static async find(opts: StackOptions): Promise<Stack> {
    let dir = resolve(opts.tree);
    for (;;) {
      if (existsSync(statePaths(dir).state)) return Stack.open({ ...opts, tree: dir });
      const up = resolve(dir, "..");
      if (up === dir) return Stack.open(opts); // throws the "no stack" error for the original tree
      dir = up;
    }
  }

  // ---------------------------------------------------------------- queries

  /** The git repository around the tree, if any. */
  repo(): Promise<GitRepo | null> {
    this.gitRepo ??= GitRepo.open(this.tree);
    return this.gitRepo;
  }

  series(): SeriesEntry[] {
    return this.readSeries().entries();
  }

  applied(): string[] {
    return this.state.applied.map((a) => a.name);
  }

  appliedRecords(): readonly AppliedPatch[] {
    return this.state.applied;
  }

  unapplied(): string[] {
    const applied = new Set(this.applied());
    return this.series().filter((e) => !applied.has(e.name)).map((e) => e.name);
  }

  top(): string | null {
    return this.state.applied.at(-1)?.name ?? null;
  }

  selectedGuards(): string[] {
    return [...this.state.guards];
  }

  /** Series names that the selected guards let through, in order. */
  pushable(): string[] {
    return this.series().filter((e) => isPushable(e, this.state.guards)).map((e) => e.name);
  }

  patchPath(name: string): string {
    return join(this.queueDir, name);
  }

  async readPatch(name: string): Promise<string> {
    const text = readText(this.patchPath(name));
    if (text === null) throw new PqError("not-found", `patch file ${this.patchPath(name)} is missing`, ["restore it (e.g. from the queue's git history) or delete the patch"]);
    return text;
  }

  async patchHeader(name: string): Promise<PatchHeader> {
    const text = await this.readPatch(name);
    return parseHeader(headerOf(text));
  }

  /**
   * An applied patch's text as it applies to this tree now: its header over a diff made
   * from the exact file versions it turned into which (so offsets and fuzz from its push
   * are gone). Unapplied patches come back as stored.
   */
  async currentPatchText(name: string): Promise<string> {
    const text = await this.readPatch(name);
    const record = this.state.applied.find((a) => a.name === name);
    if (!record || record.needsRefresh) return text;
    return joinHeaderAndDiff(dropDiffstat(headerOf(text)), buildPatchDiff(record.files, record.renames ?? [], (v) => this.versionContent(v)));
  }

  /** Next and previous patches relative to the top, as hg qnext/qprev. */
  next(): string | null {
    return this.pushCandidates()[0] ?? null;
  }

  prev(): string | null {
    return this.state.applied.at(-2)?.name ?? null;
  }

  async status(): Promise<StackStatus> {
    const top = this.state.applied.at(-1);
    const preview = top ? await planRefresh(await this.planContext(), this.workingSet(), top) : null;
    const onDisk = top ? readText(this.patchPath(top.name)) : null;
    return {
      top: top?.name ?? null,
      ...(top && onDisk !== null && sha1(onDisk) !== top.hash ? { topChangedInQueue: true } : {}),
      applied: this.state.applied.length,
      unapplied: this.unapplied().length,
      needsRefresh: top?.needsRefresh,
      pending: preview ? preview.changed : [],
      untracked: preview ? preview.untracked : ((await (await this.repo())?.untrackedFiles()) ?? []),
      guards: this.selectedGuards(),
    };
  }

  /** What the top patch would contain after a refresh (hg qdiff). */
  async diff(): Promise<string> {
    const top = this.requireTop();
    const plan = await planRefresh(await this.planContext(), this.workingSet(), top);
    return plan.diff;
  }

  // ---------------------------------------------------------------- push / pop

  async push(opts: { target?: StackTarget; all?: boolean; force?: boolean; merge?: boolean; move?: boolean; fuzz?: number; onEvent?: EventSink } = {}): Promise<PushReport> {
    return this.withLock(async () => {
      const emit = opts.onEvent ?? this.onEvent;
      this.refuseIfTopNeedsRefresh("push", opts.force);
      const series = this.readSeries();
      let list: string[];
      if (opts.target !== undefined && opts.move && !opts.all) {
        const name = this.resolveName(series, opts.target);
        if (this.applied().includes(name)) throw new PqError("usage", `${name} is already applied`);
        series.move(name, this.top() ?? null);
        this.writeSeries(series);
        list = [name];
      } else {
        list = this.pushCandidates(series);
        if (opts.target !== undefined) {
          const name = this.resolveName(series, opts.target);
          if (this.applied().includes(name)) throw new PqError("usage", `${name} is already applied`, ["pq pop to go back to it"]);
          const entry = series.entries().find((e) => e.name === name)!;
          if (!isPushable(entry, this.state.guards)) {
            throw new PqError("usage", `${name} is guarded (${entry.guards.join(" ")}) and the selected guards exclude it`, [
              "pq select to change the selected guards, or pq push --move after changing its guards",
            ]);
          }
          const at = list.indexOf(name);
          if (at === -1) throw new PqError("usage", `${name} comes before the top patch in the series`, ["use pq push --move to move it"]);
          list = list.slice(0, at + 1);
        } else if (!opts.all) {
          list = list.slice(0, 1);
        }
      }
      const report: PushReport = { pushed: [], top: this.top() };
      if (!list.length) return report;

      const ws = this.workingSet();
      const applied = [...this.state.applied];
      let failure: { name: string; app: PatchApplication } | null = null;
      for (const [i, name] of list.entries()) {
        emit({ kind: "push", message: `applying ${name}`, current: i + 1, total: list.length });
        // The patch's hash comes from the stat cache when the file is unchanged: a warm push
        // reads no patch at all.
        const known = this.knownPatchHash(name);
        const text = known ? null : await this.readPatch(name);
        const hash = known ?? this.rememberPatchHash(name, text!);
        const hit = this.tryPushCache(ws, hash);
        if (hit) {
          applied.push({ name, hash, files: hit.files, ...(hit.renames?.length ? { renames: hit.renames } : {}) });
          report.pushed.push({ name, cached: true, notes: [] });
          continue;
        }
        ws.begin();
        const app = await applyPatchText(ws, name, text ?? (await this.readPatch(name)), {
          force: opts.force,
          merge: opts.merge,
          fuzz: opts.fuzz,
          git: opts.merge ? await this.repo() : null,
          strip: series.stripOf(name),
        });
        const stuck = app.failed && !opts.force;
        if (stuck) {
          ws.rollback();
          failure = { name, app };
          break;
        }
        const needsRefresh = app.conflicts ? "conflict" : app.failed ? "forced" : undefined;
        const record: AppliedPatch = { name, hash, files: app.files, ...(app.renames.length ? { renames: app.renames } : {}), ...(needsRefresh ? { needsRefresh } : {}) };
        applied.push(record);
        const pushed: PushedPatch = { name, cached: false, notes: describeFuzz(app), ...(needsRefresh ? { needsRefresh } : {}) };
        if (Object.keys(app.rejects).length) pushed.rejects = Object.keys(app.rejects).map((p) => `${p}.rej`);
        if (needsRefresh) pushed.notes.push(...describeFailures(app));
        if (app.binaryWithoutData.length) pushed.binaryWithoutData = app.binaryWithoutData;
        report.pushed.push(pushed);
        // Not cached when there is something to report: a reused push reports nothing.
        if (!needsRefresh && !app.fuzzy && !app.binaryWithoutData.length) {
          this.pushCache.add(hash, { files: Object.fromEntries(Object.entries(app.files).map(([p, c]) => [p, [c.pre, c.post]])), ...(app.renames.length ? { renames: app.renames } : {}) });
        }
        if (needsRefresh) {
          await this.commit(ws, { ...this.state, applied }, `push ${list[0]}..${name}`, emit);
          for (const [path, rej] of Object.entries(app.rejects)) writeText(join(this.tree, `${path}.rej`), rej);
          report.top = name;
          return report;
        }
      }
      await this.commit(ws, { ...this.state, applied }, `push ${list[0]}..${list.at(-1)}`, emit);
      report.top = this.top();
      if (failure) {
        const merged = Boolean(opts.merge);
        const pushedNote = report.pushed.length ? `${report.pushed.length} patch(es) before it were applied; the top is now ${report.top}` : "nothing was changed";
        throw new PqError("apply-failed", `${failure.name} does not apply (${pushedNote})`, [
          ...describeFailures(failure.app),
          `pq push --force applies the hunks that fit and writes .rej files${merged ? "" : "; pq push --merge tries a three-way merge"}`,
        ]);
      }
      return report;
    });
  }

  async pop(opts: { target?: StackTarget; all?: boolean; force?: boolean; onEvent?: EventSink } = {}): Promise<PopReport> {
    return this.withLock(async () => {
      const emit = opts.onEvent ?? this.onEvent;
      const applied = this.state.applied;
      if (!applied.length) return { popped: [], top: null };
      let keep: number;
      if (opts.all) keep = 0;
      else if (opts.target !== undefined) {
        if (opts.target === 0) keep = 0;
        else {
          const name = this.resolveName(this.readSeries(), opts.target);
          const at = applied.findIndex((a) => a.name === name);
          if (at === -1) throw new PqError("usage", `${name} is not applied`);
          keep = at + 1;
        }
      } else keep = applied.length - 1;
      const popping = applied.slice(keep);
      if (!popping.length) return { popped: [], top: this.top() };
      const top = applied.at(-1)!;
      if (top.needsRefresh && !opts.force) {
        throw new PqError("needs-refresh", `${top.name} was ${top.needsRefresh === "conflict" ? "merged with conflicts" : "force-applied with rejects"} and needs a refresh`, [
          "resolve the conflicts or .rej hunks, then pq refresh; or pq pop --force to drop the partial application (a backup is kept)",
        ]);
      }
      const ws = this.workingSet();
      const expected = expectedVersions(applied);
      const restore = new Map<string, Version>();
      for (const record of [...popping].reverse()) for (const [path, change] of Object.entries(record.files)) restore.set(path, change.pre);
      // Pops restore bytes from the object store, so anything on disk that pq did not write would be lost: check first.
      const dirty = [...restore.keys()].filter((p) => ws.version(p) !== expected.get(p));
      let backup: string | undefined;
      if (dirty.length) {
        if (!opts.force) {
          throw new PqError("dirty", `unrefreshed changes in ${dirty.length} file(s) that the patches to pop touch: ${dirty.slice(0, 8).join(", ")}${dirty.length > 8 ? ", ..." : ""}`, [
            "pq refresh to keep them in the top patch, or pq pop --force to pop anyway (the changed files are backed up)",
          ]);
        }
        backup = this.backupFiles(dirty, `pop-${flattenName(top.name)}`);
      }
      for (const [path, version] of restore) ws.setVersion(path, version);
      emit({ kind: "pop", message: `popping ${popping.length} patch(es)`, current: popping.length, total: popping.length });
      await this.commit(ws, { ...this.state, applied: applied.slice(0, keep) }, `pop ${popping.at(-1)!.name}..${popping[0].name}`, emit);
      return { popped: popping.map((p) => p.name).reverse(), top: this.top(), ...(backup ? { backup } : {}) };
    });
  }

  async goto(target: StackTarget, opts: { force?: boolean; onEvent?: EventSink } = {}): Promise<PushReport | PopReport> {
    if (target === 0) return this.pop({ all: true, ...opts });
    const name = this.resolveName(this.readSeries(), target);
    if (this.applied().includes(name)) return this.pop({ target: name, ...opts });
    return this.push({ target: name, ...opts });
  }

  // ---------------------------------------------------------------- editing patches

  async newPatch(name: string, opts: { message?: string; author?: string } = {}): Promise<void> {
    validatePatchName(name);
    await this.withLock(async () => {
      this.refuseIfTopNeedsRefresh("create a new patch over it", false);
      const series = this.readSeries();
      if (series.has(name)) throw new PqError("exists", `${name} is already in the series`);
      if (existsSync(this.patchPath(name))) throw new PqError("exists", `${this.patchPath(name)} already exists`, ["pick another name, or pq import it"]);
      const author = opts.author ?? (await this.defaultAuthor());
      const [subject, ...rest] = (opts.message ?? "").split("\n");
      const text = formatHeader({ author, date: new Date().toUTCString().replace("GMT", "+0000"), subject: subject || name, body: rest.join("\n").trim() });
      writeAtomic(this.patchPath(name), text);
      series.insertAfter(this.top(), { name, guards: [] });
      this.writeSeries(series);
      this.state.applied.push({ name, hash: sha1(text), files: {} });
      this.persistState();
    });
  }

  /** Start tracking files in the top patch (quilt add): needed for new, untracked files. */
  async add(paths: string[]): Promise<string[]> {
    return this.withLock(async () => {
      const top = this.requireTop();
      const added: string[] = [];
      for (const raw of paths) {
        const path = checkTreePath(this.tree, raw);
        if (top.files[path]) continue;
        const base = await baselineVersion(await this.planContext(), path, this.state.applied.length - 1);
        top.files[path] = { pre: base, post: base };
        added.push(path);
      }
      this.persistState();
      return added;
    });
  }

  async refresh(opts: { message?: string; header?: PatchHeader; files?: string[]; force?: boolean } = {}): Promise<RefreshReport> {
    return this.withLock(async () => {
      const top = this.requireTop();
      // In a shared queue a pull can bring a colleague's new version of the applied patch:
      // refreshing would overwrite it with ours. Refuse unless asked to.
      const onDisk = readText(this.patchPath(top.name));
      if (!opts.force && onDisk !== null && sha1(onDisk) !== top.hash) {
        throw new PqError("dirty", `${top.name} changed in the queue since it was pushed (a pull, or an edit by hand); refreshing would overwrite that version`, [
          "pq pop, then pq push to apply the new version and redo your changes on it (they stay in the tree only if you keep them)",
          "or pq refresh --force to replace the queue's version with this tree's",
        ]);
      }
      if (opts.files?.length) {
        for (const raw of opts.files) {
          const path = checkTreePath(this.tree, raw);
          if (!top.files[path]) top.files[path] = { pre: await baselineVersion(await this.planContext(), path, this.state.applied.length - 1), post: null };
        }
      }
      const plan = await planRefresh(await this.planContext(), this.workingSet(), top);
      let header = dropDiffstat(headerOf(await this.readPatch(top.name)));
      if (opts.header) header = formatHeader(opts.header);
      else if (opts.message !== undefined) header = replaceMessage(header, opts.message);
      const text = joinHeaderAndDiff(header, plan.diff);
      writeAtomic(this.patchPath(top.name), text);
      // The diff is written with a/ b/ prefixes now: a quilt -pN entry becomes the default.
      const series = this.readSeries();
      if (series.has(top.name) && series.stripOf(top.name) !== 1) {
        series.setStrip(top.name, 1);
        this.writeSeries(series);
      }
      top.files = plan.files;
      top.hash = sha1(text);
      delete top.needsRefresh;
      this.persistState();
      // The new patch turns exactly these versions into these: a later push of it is a checkout.
      const changed = Object.entries(plan.files).filter(([, c]) => c.pre !== c.post);
      this.pushCache.add(top.hash, { files: Object.fromEntries(changed.map(([p, c]) => [p, [c.pre, c.post]])), ...(top.renames?.length ? { renames: top.renames } : {}) });
      this.pushCache.flush();
      return { name: top.name, files: Object.keys(plan.files).sort(), untracked: plan.untracked };
    });
  }

  /** Replace a patch's header (message/author) without touching its diff. */
  async setHeader(name: string, header: PatchHeader): Promise<void> {
    await this.withLock(async () => {
      const text = await this.readPatch(name);
      const updated = joinHeaderAndDiff(formatHeader(header), diffOf(text));
      writeAtomic(this.patchPath(name), updated);
      const record = this.state.applied.find((a) => a.name === name);
      if (record) {
        record.hash = sha1(updated);
        this.persistState();
      }
    });
  }

  /** Write a patch file. An applied patch may only change its header this way. */
  async writePatch(name: string, text: string): Promise<void> {
    await this.withLock(async () => {
      const record = this.state.applied.find((a) => a.name === name);
      if (record) {
        const old = await this.readPatch(name);
        if (diffOf(old) !== diffOf(text)) throw new PqError("usage", `${name} is applied: its diff can only change through pq refresh`, ["pop it first to replace the whole patch"]);
        record.hash = sha1(text);
        this.persistState();
      }
      writeAtomic(this.patchPath(name), text);
    });
  }

  /** Add patches to the series after the top applied patch (hg qimport), optionally pushing them. */
  async insertPatches(items: { name: string; text: string; strip?: number }[], opts: { push?: boolean; onEvent?: EventSink } = {}): Promise<PushReport | null> {
    await this.withLock(async () => {
      const series = this.readSeries();
      for (const { name, text, strip } of items) {
        validatePatchName(name);
        if (series.has(name)) throw new PqError("exists", `${name} is already in the series`, ["import it under another name (--name)"]);
        const existing = readText(this.patchPath(name));
        if (existing !== null && existing !== text) throw new PqError("exists", `${this.patchPath(name)} exists with other content`, ["import it under another name"]);
        parsePatch(text, { strip }); // refuse what cannot be parsed before the queue changes
      }
      let after = this.top();
      const unappliedBefore = this.pushCandidates(series);
      // Insert after the last applied patch, before the patches that were waiting.
      if (unappliedBefore.length === 0 && series.names().length) after = series.names().at(-1)!;
      for (const { name, text, strip } of items) {
        writeAtomic(this.patchPath(name), text);
        series.insertAfter(after, { name, guards: [], ...(strip === undefined ? {} : { strip }) });
        after = name;
      }
      this.writeSeries(series);
    });
    if (!opts.push) return null;
    return this.push({ target: items.at(-1)!.name, onEvent: opts.onEvent });
  }

  async deletePatches(names: string[], opts: { keep?: boolean } = {}): Promise<string[]> {
    return this.withLock(async () => {
      const series = this.readSeries();
      const kept: string[] = [];
      for (const name of names) {
        if (!series.has(name)) throw new PqError("not-found", `${name} is not in the series`);
        if (this.applied().includes(name)) throw new PqError("usage", `${name} is applied`, ["pop it first"]);
      }
      for (const name of names) {
        series.remove(name);
        if (!opts.keep && existsSync(this.patchPath(name))) kept.push(this.moveToTrash(name));
      }
      this.writeSeries(series);
      return kept;
    });
  }

  async renamePatch(from: string, to: string): Promise<void> {
    validatePatchName(to);
    await this.withLock(async () => {
      const series = this.readSeries();
      if (existsSync(this.patchPath(to))) throw new PqError("exists", `${this.patchPath(to)} already exists`);
      series.rename(from, to);
      movePatchFile(this.queueDir, from, to);
      this.writeSeries(series);
      const record = this.state.applied.find((a) => a.name === from);
      if (record) {
        record.name = to;
        this.persistState();
      }
    });
  }

  /** Move an unapplied patch within the unapplied part of the series. */
  async reorder(name: string, where: { after?: string; before?: string; first?: boolean; last?: boolean }): Promise<void> {
    await this.withLock(async () => {
      const series = this.readSeries();
      const applied = this.applied();
      if (applied.includes(name)) throw new PqError("usage", `${name} is applied; pop it first to reorder it`);
      if (!series.has(name)) throw new PqError("not-found", `${name} is not in the series`);
      const names = series.names();
      let after: string | null;
      if (where.first) after = this.top();
      else if (where.last) after = names.filter((n) => n !== name).at(-1) ?? null;
      else if (where.after) after = where.after;
      else if (where.before) {
        const i = names.filter((n) => n !== name).indexOf(where.before);
        if (i === -1) throw new PqError("not-found", `${where.before} is not in the series`);
        after = i === 0 ? null : names.filter((n) => n !== name)[i - 1];
      } else throw new PqError("usage", "say where: --after NAME, --before NAME, --first or --last");
      if (after !== null && !series.has(after)) throw new PqError("not-found", `${after} is not in the series`);
      const lastApplied = this.top();
      if (lastApplied && (after === null || series.indexOf(after) < series.indexOf(lastApplied))) {
        throw new PqError("usage", `that would move ${name} below the applied patches`, ["pop them first"]);
      }
      series.move(name, after);
      this.writeSeries(series);
    });
  }

  /** Fold unapplied patches into the top patch (hg qfold): their changes and messages. */
  async fold(names: string[], opts: { message?: string; keep?: boolean; onEvent?: EventSink } = {}): Promise<RefreshReport> {
    await this.withLock(async () => {
      const top = this.requireTop();
      this.refuseIfTopNeedsRefresh("fold into it", false);
      const series = this.readSeries();
      for (const name of names) {
        if (!series.has(name)) throw new PqError("not-found", `${name} is not in the series`);
        if (this.applied().includes(name)) throw new PqError("usage", `${name} is applied; only unapplied patches can be folded`);
      }
      const ws = this.workingSet();
      const headers: PatchHeader[] = [];
      const updated: AppliedPatch = { ...top, files: { ...top.files }, renames: [...(top.renames ?? [])] };
      for (const name of names) {
        const text = await this.readPatch(name);
        const app = await applyPatchText(ws, name, text, { strip: series.stripOf(name) });
        if (app.failed) throw new PqError("apply-failed", `${name} does not apply on top of ${top.name}; nothing was changed`, describeFailures(app));
        for (const [path, change] of Object.entries(app.files)) {
          updated.files[path] = { pre: updated.files[path]?.pre ?? change.pre, post: change.post };
        }
        updated.renames!.push(...app.renames);
        headers.push(parseHeader(headerOf(text)));
      }
      await this.commit(ws, { ...this.state, applied: [...this.state.applied.slice(0, -1), updated] }, `fold ${names.join(" ")} into ${top.name}`, opts.onEvent ?? this.onEvent);
      const own = parseHeader(headerOf(await this.readPatch(top.name)));
      const body = [own.body, ...headers.map((h) => [h.subject, h.body].filter(Boolean).join("\n\n"))].filter(Boolean).join("\n\n* * *\n\n");
      const header = formatHeader({ ...own, ...(opts.message ? splitMessage(opts.message) : { body }) });
      writeAtomic(this.patchPath(top.name), joinHeaderAndDiff(header, diffOf(await this.readPatch(top.name))));
      for (const name of names) {
        series.remove(name);
        if (!opts.keep) this.moveToTrash(name);
      }
      this.writeSeries(series);
    });
    return this.refresh({ force: true }); // fold itself just rewrote the patch file
  }

  // ---------------------------------------------------------------- guards

  async setGuards(name: string, guards: string[]): Promise<void> {
    for (const g of guards) {
      if (!/^[+-]/.test(g)) throw new PqError("usage", `guard "${g}" must start with + or -`);
      validateGuardName(g.slice(1));
    }
    await this.withLock(async () => {
      const series = this.readSeries();
      series.setGuards(name, guards);
      this.writeSeries(series);
    });
  }

  /** Select guards; returns applied patches the new selection would not have pushed. */
  async select(guards: string[]): Promise<string[]> {
    guards.forEach(validateGuardName);
    return this.withLock(async () => {
      this.state.guards = [...new Set(guards)].sort();
      this.persistState();
      const entries = new Map(this.series().map((e) => [e.name, e]));
      return this.applied().filter((n) => entries.has(n) && !isPushable(entries.get(n)!, this.state.guards));
    });
  }

  // ---------------------------------------------------------------- finish

  /** Turn the bottom applied patches, up to and including `target`, into git commits (hg qfinish). */
  async finish(opts: { target?: StackTarget; all?: boolean; onEvent?: EventSink } = {}): Promise<{ commits: { name: string; commit: string }[] }> {
    return this.withLock(async () => {
      const git = await this.repo();
      if (!git) throw new PqError("no-queue", "finish needs a git work tree");
      if (!this.state.applied.length) throw new PqError("usage", "no patches are applied");
      let count: number;
      if (opts.all) count = this.state.applied.length;
      else if (opts.target === undefined) throw new PqError("usage", "name the last patch to finish, or --all");
      else {
        const name = this.resolveName(this.readSeries(), opts.target);
        count = this.applied().indexOf(name) + 1;
        if (count === 0) throw new PqError("usage", `${name} is not applied`);
      }
      if (await git.stagedChanges()) throw new PqError("dirty", "the git index has staged changes", ["commit or unstage them (git restore --staged) first"]);
      const finishing = this.state.applied.slice(0, count);
      const bad = finishing.find((p) => p.needsRefresh);
      if (bad) throw new PqError("needs-refresh", `${bad.name} needs a refresh before it can be finished`);
      const commits: { name: string; commit: string }[] = [];
      const series = this.readSeries();
      for (const [i, record] of finishing.entries()) {
        (opts.onEvent ?? this.onEvent)({ kind: "finish", message: `committing ${record.name}`, current: i + 1, total: finishing.length });
        const header = await this.patchHeader(record.name);
        const files = Object.entries(record.files).map(([path, change]) => ({
          path,
          content: this.versionContent(change.post),
          exec: versionExec(change.post),
        }));
        const message = [header.subject || record.name, header.body].filter(Boolean).join("\n\n") + "\n";
        commits.push({ name: record.name, commit: await git.commitFiles(files, { message, author: header.author, date: header.date }) });
        series.remove(record.name);
        this.moveToTrash(record.name);
      }
      this.state.applied = this.state.applied.slice(count);
      this.persistState();
      this.writeSeries(series);
      return { commits };
    });
  }

  // ---------------------------------------------------------------- internals

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    if (this.lock) return fn(); // re-entrant: an operation built from others
    this.lock = TreeLock.acquire(statePaths(this.tree).lock);
    try {
      const replayed = await recoverJournal(this.tree, this.store, this.statCache);
      if (replayed) {
        this.onEvent({ kind: "recover", message: `completed an interrupted operation (${replayed})` });
        this.state = loadState(this.tree)!;
      }
      return await fn();
    } finally {
      this.store.close();
      this.lock.release();
      this.lock = null;
    }
  }

  /** Objects first, then the state that refers to them. */
  private persistState(): void {
    this.store.flush();
    saveState(this.tree, this.state);
  }

  private workingSet(): WorkingSet {
    return new WorkingSet(this.tree, this.store, this.statCache);
  }

  private async commit(ws: WorkingSet, state: StackState, op: string, emit: EventSink): Promise<void> {
    const writes = ws.plannedWrites();
    await commitWrites(this.tree, this.store, this.statCache, { op, writes, state }, (done, total) =>
      emit({ kind: "write", message: `writing files`, current: done, total }),
    );
    this.pushCache.flush();
    this.state = state;
  }

  private readSeries(): Series {
    // The series is UTF-8 text (quilt and hg read it so): names are decoded like file names.
    return Series.parse(bytesToName(readText(join(this.queueDir, "series")) ?? ""));
  }

  private writeSeries(series: Series): void {
    writeAtomic(join(this.queueDir, "series"), nameToBytes(series.serialize()));
  }

  private pushCandidates(series = this.readSeries()): string[] {
    const applied = new Set(this.applied());
    const names = series.entries();
    const top = this.top();
    const start = top ? names.findIndex((e) => e.name === top) + 1 : 0;
    return names.slice(start).filter((e) => !applied.has(e.name) && isPushable(e, this.state.guards)).map((e) => e.name);
  }

  private resolveName(series: Series, target: StackTarget): string {
    return resolveName(series.names(), target);
  }

  private requireTop(): AppliedPatch {
    const top = this.state.applied.at(-1);
    if (!top) throw new PqError("usage", "no patch is applied", ["pq new NAME starts one; pq push applies the next"]);
    return top;
  }

  private refuseIfTopNeedsRefresh(what: string, force: boolean | undefined): void {
    const top = this.state.applied.at(-1);
    if (top?.needsRefresh && !force) {
      throw new PqError("needs-refresh", `${top.name} needs a refresh before you can ${what}`, [
        "fix the conflicts or .rej hunks in the tree, then pq refresh (or pq pop --force to drop it)",
      ]);
    }
  }

  /** A patch file's sha1 from the stat cache, if the file has not changed since it was hashed. */
  private knownPatchHash(name: string): string | null {
    const st = fileStat(this.patchPath(name));
    if (!st) return null;
    return this.statCache.lookup(`\0queue/${name}`, st.size, st.mtimeMs) ?? null;
  }

  private rememberPatchHash(name: string, text: string): string {
    const hash = sha1(text);
    const st = fileStat(this.patchPath(name));
    if (st) this.statCache.record(`\0queue/${name}`, st.size, st.mtimeMs, hash);
    return hash;
  }

  private tryPushCache(ws: WorkingSet, hash: string): { files: Record<string, { pre: Version; post: Version }>; renames?: [string, string][] } | null {
    for (const entry of this.pushCache.candidates(hash)) {
      const paths = Object.keys(entry.files);
      if (!paths.every((p) => ws.version(p) === entry.files[p][0])) continue;
      const files: Record<string, { pre: Version; post: Version }> = {};
      for (const p of paths) {
        const [pre, post] = entry.files[p];
        ws.preserve(p);
        ws.setVersion(p, post);
        files[p] = { pre, post };
      }
      return { files, renames: entry.renames };
    }
    return null;
  }

  private async planContext(): Promise<PlanContext> {
    return { tree: this.tree, queueDir: this.queueDir, applied: this.state.applied, git: await this.repo(), store: this.store };
  }

  private versionContent(v: Version): string | null {
    return v === null ? null : this.store.get(versionId(v)!);
  }

  private backupFiles(paths: string[], label: string): string {
    const dir = join(statePaths(this.tree).backups, `${new Date().toISOString().replace(/[:.]/g, "-")}-${label}`);
    for (const path of paths) {
      const content = readText(join(this.tree, path));
      if (content !== null) writeText(join(dir, path), content);
    }
    return dir;
  }

  private moveToTrash(name: string): string {
    const dir = statePaths(this.tree).trash;
    mkdirSync(dir, { recursive: true });
    const dest = join(dir, `${new Date().toISOString().replace(/[:.]/g, "-")}-${flattenName(name)}`);
    movePatchOut(this.queueDir, name, dest);
    return dest;
  }

  private async defaultAuthor(): Promise<string | undefined> {
    const git = await this.repo();
    if (!git) return undefined;
    try {
      const name = (await git.run(["config", "user.name"])).trim();
      const email = (await git.run(["config", "user.email"])).trim();
      return name && email ? `${name} <${email}>` : undefined;
    } catch {
      return undefined;
    }
  }
}
