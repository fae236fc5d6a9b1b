import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take longest (real builds and boots, hundreds of git and pq processes), longest
 * first, as measured by `npx vitest run` on the 2-core machine (December 3). vitest orders files by
 * the durations of the previous run, which a clean clone (CI) does not have: it then started the
 * two ci files last, and one worker ran them alone for the last minute.
 */
const LONGEST_FIRST = [
  "test/ci/kernel-series.test.ts",
  "test/collab/sync.test.ts",
  "test/queue/transactions.test.ts",
  "test/queue/push-run.test.ts",
  "test/collab/kill.test.ts",
  "test/queue/undo.test.ts",
  "test/tui/tmux.test.ts",
  "test/tui/app.test.tsx",
  "test/queue/crash.test.ts",
  "test/queue/rebase.test.ts",
  "test/queue/reliability.test.ts",
  "test/cli/ci-cli.test.ts",
  "test/ci/kernel-boot-flags.test.ts",
];

/** vitest's order, with the files known to be long moved to the front (a stable sort keeps the rest as they were). */
export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONGEST_FIRST.findIndex((name) => f.moduleId.endsWith(name));
      return i === -1 ? LONGEST_FIRST.length : i;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
