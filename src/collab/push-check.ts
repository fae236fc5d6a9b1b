/**
 * The check a sync makes before it pushes: the queue it would publish must apply, from the
 * tree's HEAD, under every guard selection a colleague may have, wherever the remote's did.
 */
import { operandList, operandWords, shellWord } from "../core/shell-word.js";
import { PqError } from "../errors.js";
import { isPushable, type SeriesEntry } from "../queue/series.js";
import type { Stack } from "../queue/stack.js";
import { sha1 } from "../tree/files.js";
import { mergeServices } from "./merge-services.js";
import type { QueueRepo } from "./queue-repo.js";
import { guardedCause, guardedCauseWords, guardsNamed, MAX_GUARDS_TRIED, parseSeries, simulateQueue, type TreeSim } from "./simulate.js";
import type { QueueVersion } from "./types.js";

/**
 * The queue about to be pushed, applied in memory from the tree's HEAD: a patch that no longer
 * applies there (a lower patch refreshed while it was not applied, its context changed) but
 * did in the remote's version would reach everyone broken. Refused before the push, naming it;
 * nothing is pushed, and the local queue and tree stay as they are.
 */
export async function refuseNewlyBroken(
  stack: Stack,
  qr: QueueRepo,
  theirs: string | null,
  head: string,
  untried: string[] = [],
): Promise<void> {
  const [mine, remoteVersion] = await Promise.all([qr.versionAt(head), theirs ? qr.versionAt(theirs) : Promise.resolve(null)]);
  // A remote series pq cannot read (a colleague's bad line, which this queue merged and corrected
  // by hand, as the sync's refusal of it says to) is nothing to compare against: every patch that
  // fails counts as new (t127 N4: the corrected queue could never be pushed).
  const remote = remoteVersion && seriesReadable(remoteVersion) ? remoteVersion : null;
  const guards = stack.selectedGuards();
  // A patch guarded off here is someone else's on: each guard the series turns on and this tree
  // does not select is checked too, with that guard selected (at most 8; the paravirt queue has two).
  // -g as well as +g: selecting a guard a patch is kept out by changes what is applied (t64 N2).
  const everyGuard = guardsNamed(mine.series, "your");
  const unselected = everyGuard.filter((g) => !guards.includes(g));
  const others = unselected.slice(0, MAX_GUARDS_TRIED);
  untried.push(...unselected.slice(MAX_GUARDS_TRIED));
  const named = everyGuard.slice(0, MAX_GUARDS_TRIED);
  // The tree's own selection, unless its applied stack vouches for it: then it is neither checked nor checked again below.
  const vouched = appliedStackVouches(stack, mine, remote);
  const candidates: { guards: string[]; extra?: string; none?: true; alone?: string }[] = [
    ...(vouched ? [] : [{ guards }]),
    ...others.map((g) => ({ guards: [...guards, g], extra: g })),
    // No guard selected, as ci and a colleague who selects none apply the queue, and each guard
    // alone, as a colleague who selects only it does: a selection of the pusher's own is no way
    // past the check (t150 N8, t151 N1: selecting a guard pushed what broke them).
    ...(guards.length ? [{ guards: [] as string[], none: true as const }] : []),
    ...named.map((g) => ({ guards: [g], alone: g })),
  ];
  const seen = new Set(vouched ? [guards.join("\0")] : []);
  const selections = candidates.filter((c) => {
    const key = c.guards.join("\0");
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  if (!selections.length) return;
  const svc = await mergeServices(stack, remote ? [mine, remote] : [mine]);
  const sims = new Map<string, TreeSim>();
  const simOf = async (selected: string[]) => {
    const key = selected.join("\0");
    let sim = sims.get(key);
    if (!sim) sims.set(key, (sim = await simulateQueue(mine, svc.baseFile, selected, "your")));
    return sim;
  };
  for (const selection of selections) {
    const sim = await simOf(selection.guards);
    const failing = [...sim.runs].filter(([, run]) => run.pushable && !run.ok).map(([name]) => name);
    if (!failing.length) continue;
    const before = remote ? await simulateQueue(remote, svc.baseFile, selection.guards, "the remote's") : null;
    const broken = failing.find((name) => !before || before.runs.get(name)?.ok !== false);
    if (!broken) continue;
    // It applies in another of the selections (the tree's own counts, checked or not): a guarded
    // patch below it makes the difference, and no one text of it applies in both (t144 N3).
    // Every guard selected is one too: a patch that builds on patches of two guards applies only there (t151 N2).
    const alternatives = [{ guards }, ...selections, { guards: named }].filter(
      (other) => other.guards.join("\0") !== selection.guards.join("\0"),
    );
    /** Whether the patch, guarded so, would be applied only where it applies: in every selection tried. */
    const guardedSoHolds = async (list: string[]) => {
      for (const other of [selection, ...alternatives])
        if (isPushable({ name: broken, guards: list }, other.guards) && (await simOf(other.guards)).runs.get(broken)?.ok !== true)
          return false;
      return true;
    };
    for (const other of alternatives) {
      const cause = guardedCause(broken, { sim, guards: selection.guards }, { sim: await simOf(other.guards), guards: other.guards });
      // The guard that makes the difference: one of the two selections has it, and a differing patch names it.
      const differ = [
        ...selection.guards.filter((g) => !other.guards.includes(g)),
        ...other.guards.filter((g) => !selection.guards.includes(g)),
      ];
      const guard = cause && differ.find((g) => [...cause.needed, ...cause.inTheWay].some((e) => e.guards.some((eg) => eg.slice(1) === g)));
      if (cause && guard) {
        const own = sim.entries.find((e) => e.name === broken)!;
        const added = selection.guards.includes(guard) ? `-${guard}` : `+${guard}`;
        const ownWay = !own.guards.includes(added) && (await guardedSoHolds([...own.guards, added]));
        throw guardDependencyRefusal(sim.entries, broken, cause, guard, selection.guards.includes(guard), ownWay);
      }
    }
    const run = sim.runs.get(broken)!;
    // The way to it: up to the patch below it, then a forced push of it (goto --force only pops over edits).
    const pushable = sim.entries.filter((e) => isPushable(e, selection.guards)).map((e) => e.name);
    const below = pushable[pushable.indexOf(broken) - 1];
    // Popped first: with the guard selected, a patch below the applied top may be one to push (t144 N3: goto refused).
    const select =
      selection.extra || selection.alone ? `pq select ${operandList(selection.guards)}, ` : selection.none ? "pq select --none, " : "";
    const reach = below
      ? `${select ? `pq pop -a, ${select}` : ""}pq goto ${operandWords(below)}, then pq push --force ${operandWords(broken)}`
      : `pq pop -a, ${select}then pq push --force ${operandWords(broken)}`;
    // Why: a patch new in this version (or changed in it) is itself the change; one the remote has as it is failed because of what changed below it (t88 N2).
    const why =
      remote?.patches[broken] === undefined
        ? "new in this version"
        : remote.patches[broken] !== mine.patches[broken]
          ? "changed in this version"
          : "a patch below it changed";
    throw new PqError(
      "apply-failed",
      `${broken} does not apply in the queue you would push (${why})${selection.extra ? ` when the guard ${selection.extra} is selected` : selection.none ? " with no guard selected" : selection.alone ? ` when only the guard ${selection.alone} is selected` : ""}: nothing was pushed`,
      [
        ...run.failures.slice(0, 5),
        // A file that does not parse is fixed in the queue, not through a push that refuses it too (t146 N1).
        run.unreadable
          ? `fix ${operandWords(broken)} by hand in ${shellWord(stack.queueDir)} as said above, pq commit -m MESSAGE, then pq sync again`
          : `${reach} (it writes .rej files), fix it, pq refresh, pq commit, then pq sync again`,
      ],
      {
        patch: broken,
        files: run.failures,
        ...(selection.extra ? { guard: selection.extra } : {}),
        ...(selection.none ? { noGuard: true } : {}),
      },
    );
  }
}

/**
 * A patch that applies with the guard selected and not without it, or the other way round,
 * because of guarded patches below it (see guardedCause): the ways out are its own guard,
 * matching theirs, or theirs taken off.
 */
function guardDependencyRefusal(
  entries: SeriesEntry[],
  broken: string,
  cause: { needed: SeriesEntry[]; inTheWay: SeriesEntry[] },
  guard: string,
  failingHasGuard: boolean,
  /** Whether guarding it with `guard` too keeps it out of every selection it does not apply in (see refuseNewlyBroken). */
  ownGuardHolds: boolean,
): PqError {
  const own = entries.find((e) => e.name === broken)!;
  // Kept out where it fails: -g where the guard is selected, +g where it is not.
  const added = failingHasGuard ? `-${guard}` : `+${guard}`;
  const guardCommand = (name: string, list: string[]) => {
    const plus = list.filter((g) => g.startsWith("+"));
    const minus = list.filter((g) => g.startsWith("-"));
    if (!list.length) return `pq guard ${operandWords(name)} --none`;
    return `pq guard ${operandWords(name)}${plus.length ? ` ${plus.join(" ")}` : ""}${minus.length ? ` -- ${minus.join(" ")}` : ""}`;
  };
  // Offered only where it holds in every selection tried: a second +guard lets a patch in under
  // either guard (hg's rule), not both, and one guard list cannot say "debug and trace" (t151 N2).
  const theirs = [...cause.needed, ...cause.inTheWay];
  const ownWay = ownGuardHolds;
  // A patch it builds on can lose its guards (applied in every selection then); one in its way applied everywhere would break it everywhere.
  const needed = cause.needed;
  const ways = [
    ...(ownWay ? [`guard it as what it depends on is guarded: ${guardCommand(broken, [...own.guards, added])}`] : []),
    ...(needed.length
      ? [
          `${ownWay ? "or " : ""}take the guards off ${needed.length === 1 ? "the patch" : "the patches"} it builds on: ${needed
            .map((e) => guardCommand(e.name, []))
            .join(", ")}`,
        ]
      : []),
  ];
  if (!ways.length)
    ways.push("change the guards so that it is applied only where what it depends on is (pq guard --list shows every patch's)");
  return new PqError(
    "apply-failed",
    `${broken} does not apply in the queue you would push ${failingHasGuard ? `when the guard ${guard} is selected` : `without the guard ${guard}`}, and does ${failingHasGuard ? "without" : "with"} it: ${guardedCauseWords(broken, cause, guard, failingHasGuard)}; nothing was pushed`,
    [...ways, "then pq commit -m MESSAGE and pq sync again"],
    { patch: broken, guard, dependsOn: theirs.map((e) => e.name) },
  );
}

/** Whether pq can read a version's series (see parseSeries). */
function seriesReadable(v: QueueVersion): boolean {
  try {
    parseSeries(v.series, "the remote's");
    return true;
  } catch (e) {
    if (e instanceof PqError) return false;
    throw e;
  }
}

/**
 * Whether the tree's applied stack already shows that the queue to push applies: every patch
 * from the first one that differs from the remote's version (by name, place or text) on is
 * applied, exactly as the queue has it. Then nothing can newly fail, and the queue need not be
 * applied again in memory (a second of a 1000-patch sync). Guards are the tree's selection.
 */
function appliedStackVouches(stack: Stack, mine: QueueVersion, remote: QueueVersion | null): boolean {
  const guards = stack.selectedGuards();
  const pushable = (v: QueueVersion) =>
    parseSeries(v.series, "the")
      .filter((e) => isPushable(e, guards))
      .map((e) => e.name);
  const names = pushable(mine);
  const theirs = remote ? pushable(remote) : [];
  let first = 0;
  while (first < names.length && names[first] === theirs[first] && mine.patches[names[first]] === remote?.patches[names[first]]) first++;
  const applied = stack.appliedRecords();
  for (let i = first; i < names.length; i++) {
    const record = applied[i];
    const text = mine.patches[names[i]];
    if (!record || record.name !== names[i] || text === undefined || sha1(text) !== record.hash) return false;
  }
  return true;
}
