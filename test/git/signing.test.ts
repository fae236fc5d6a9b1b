import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { cleanup, git, makeRepo, pq, tempDir, write } from "../helpers/repo.js";

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) cleanup(d);
  dirs = [];
});

async function onePatchPushed(): Promise<string> {
  const dir = makeRepo({ "a.txt": "a\n" });
  dirs.push(dir);
  expect((await pq(dir, "init")).code).toBe(0);
  expect((await pq(dir, "new", "p1", "-m", "one")).code).toBe(0);
  write(dir, "a.txt", "a\nz\n");
  expect((await pq(dir, "refresh")).code).toBe(0);
  return dir;
}

/**
 * git commit-tree does not read commit.gpgSign: pq finish (and pq commit, which shares the
 * commit-tree call's rule) made unsigned commits in a repository that asks for signed ones,
 * without a word (t99 N3). Signed with an SSH key (gpg.format=ssh), which needs no agent.
 */
it("pq finish signs its commits where commit.gpgSign asks, and a signature git cannot make moves nothing", async () => {
  const dir = await onePatchPushed();
  const keys = tempDir("pq-keys-");
  dirs.push(keys);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ann@example.org", "-f", join(keys, "key")]);
  git(dir, "config", "commit.gpgSign", "true");
  git(dir, "config", "gpg.format", "ssh");
  git(dir, "config", "user.signingKey", join(keys, "key"));
  const base = git(dir, "rev-parse", "HEAD").trim();

  // A signer that cannot run: git's refusal, exit 11, the branch and the stack as they were.
  git(dir, "config", "gpg.ssh.program", join(keys, "no-such-signer"));
  const refused = await pq(dir, "finish", "-a");
  expect(refused.code).toBe(11);
  expect(refused.err).toContain("git commit-tree failed");
  expect(git(dir, "rev-parse", "HEAD").trim()).toBe(base);
  expect((await pq(dir, "applied")).out).toBe("p1\n");

  git(dir, "config", "--unset", "gpg.ssh.program");
  expect((await pq(dir, "finish", "-a")).code).toBe(0);
  expect(git(dir, "cat-file", "commit", "HEAD")).toContain("gpgsig -----BEGIN SSH SIGNATURE-----");
  expect(git(dir, "log", "-1", "--format=%s")).toBe("one\n");
});

it("no signature where the repository does not ask for one", async () => {
  const dir = await onePatchPushed();
  expect((await pq(dir, "finish", "-a")).code).toBe(0);
  expect(git(dir, "cat-file", "commit", "HEAD")).not.toContain("gpgsig");
});

it("pq commit signs the shared queue's commit where the queue's repository asks", async () => {
  const dir = makeRepo({ "a.txt": "a\n" });
  const remote = tempDir("pq-remote-");
  dirs.push(dir, remote);
  git(remote, "init", "-q", "--bare", "-b", "main");
  expect((await pq(dir, "init", "--shared", remote)).code).toBe(0);
  const keys = tempDir("pq-keys-");
  dirs.push(keys);
  execFileSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ann@example.org", "-f", join(keys, "key")]);
  const queue = join(dir, "patches");
  for (const [k, v] of [
    ["commit.gpgSign", "true"],
    ["gpg.format", "ssh"],
    ["user.signingKey", join(keys, "key")],
  ])
    git(queue, "config", k, v);
  expect((await pq(dir, "new", "p1", "-m", "one")).code).toBe(0);
  write(dir, "a.txt", "a\nz\n");
  expect((await pq(dir, "refresh")).code).toBe(0);
  expect((await pq(dir, "commit", "-m", "add p1")).code).toBe(0);
  expect(git(queue, "cat-file", "commit", "HEAD")).toContain("gpgsig -----BEGIN SSH SIGNATURE-----");
});
