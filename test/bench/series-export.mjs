// The benchmarks' shared workload: the last N first-parent commits of a real repository as
// a patch series (one git format-patch mail per commit; a merge commit becomes one mail with
// its first-parent diff, so that the series reproduces the last commit's tree exactly).
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const git = (cwd, ...args) => execFileSync("git", args, { cwd, encoding: "latin1", maxBuffer: 1 << 30 });

/** Writes the mails and a `series` file into dir; returns the commits (oldest first), the series' base and the mail names. */
export function exportSeries(repo, n, dir) {
  const commits = git(repo, "rev-list", "--first-parent", "-n", String(n), "HEAD").trim().split("\n").reverse();
  const base = git(repo, "rev-parse", `${commits[0]}^`).trim();
  mkdirSync(dir, { recursive: true });
  const names = commits.map((c, i) => {
    const parents = git(repo, "rev-list", "--parents", "-n", "1", c).trim().split(" ").slice(1);
    const name = `${String(i + 1).padStart(4, "0")}-${c.slice(0, 10)}.patch`;
    let text;
    if (parents.length === 1) text = git(repo, "format-patch", "-1", "--stdout", "--no-signature", "--binary", c);
    else {
      const who = git(repo, "log", "-1", "--format=%an <%ae>%n%aD%n%s", c).split("\n");
      text =
        `From ${c} Mon Sep 17 00:00:00 2001\nFrom: ${who[0]}\nDate: ${who[1]}\nSubject: [PATCH] ${who[2]}\n\n---\n` +
        git(repo, "diff", "--binary", "--full-index", parents[0], c);
    }
    writeFileSync(join(dir, name), text, "latin1");
    return name;
  });
  writeFileSync(join(dir, "series"), names.join("\n") + "\n");
  return { commits, base, names };
}
