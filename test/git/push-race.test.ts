import { describe, expect, it } from "vitest";
import { pushLostRace } from "../../src/git/repo.js";

describe("git push's refusals read as a lost race (fetch, merge, push again) or as the remote's refusal", () => {
  it("takes a branch made meanwhile by a colleague's first push as a lost race (collab-17 F1), not a hook's refusal", () => {
    const raced = [
      "To /srv/queue.git\n!\tHEAD:refs/heads/main\t[remote rejected] (failed to update ref)\nDone",
      "remote: error: cannot lock ref 'refs/heads/main': reference already exists",
    ].join("\n");
    expect(pushLostRace(raced)).toBe(true);
    expect(pushLostRace("! [rejected]        HEAD -> main (fetch first)")).toBe(true);
    expect(
      pushLostRace(
        "remote: error: cannot lock ref 'refs/heads/main': is at 1234 but expected 5678\n[remote rejected] (failed to update ref)",
      ),
    ).toBe(true);
    expect(pushLostRace("! [remote rejected] HEAD -> main (pre-receive hook declined)")).toBe(false);
    expect(pushLostRace("fatal: could not read from remote repository")).toBe(false);
  });
});
