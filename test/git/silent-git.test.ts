import { afterEach, expect, it, vi } from "vitest";
import { GitRepo } from "../../src/git/repo.js";
import { cleanup, git, makeRepo } from "../helpers/repo.js";

/** The real setTimeout, taken before any test freezes the timers. */
const realTimeout = globalThis.setTimeout.bind(globalThis);
let dir = "";
afterEach(() => {
  vi.useRealTimers();
  cleanup(dir);
});

/**
 * simple-git waits 50 ms on a timer after a git that printed nothing, unless it saw output. With
 * the timers frozen, a silent git (update-ref, config) still comes back only if no such timer is
 * armed: that is, only if pq's end-of-output mark reached simple-git.
 */
it("a git that prints nothing completes without simple-git's silence timer", async () => {
  dir = makeRepo({ "a.c": "one\n" });
  const repo = (await GitRepo.open(dir))!;
  const head = git(dir, "rev-parse", "HEAD").trim();
  vi.useFakeTimers({ toFake: ["setTimeout", "setInterval"] });
  const outcome = await Promise.race([
    repo.run(["update-ref", "refs/heads/copy", head]).then(() => "done"),
    new Promise((resolve) => realTimeout(resolve, 10_000, "waiting on a frozen timer")),
  ]);
  expect(outcome).toBe("done");
  const config = await Promise.race([
    repo.run(["config", "pq.test", "yes"]),
    new Promise((resolve) => realTimeout(resolve, 10_000, "waiting on a frozen timer")),
  ]);
  expect(config).toBe("");
  vi.useRealTimers();
  expect(git(dir, "rev-parse", "refs/heads/copy").trim()).toBe(head);
  expect(git(dir, "config", "pq.test").trim()).toBe("yes");
});
