/**
 * Names a state of a series by what it is made of: sha1 over the names and bytes of the
 * patches up to it, each link chained to the one before. ci records it per state; a later
 * reader (the TUI's badges) knows a stored verdict still describes the state only if the
 * current patches give the same chain.
 */
import { createHash } from "./sha1.js";

export function chainState(previous: string, name: string, text: string): string {
  return createHash("sha1").update(previous).update("\0").update(name).update("\0").update(text, "latin1").digest("hex");
}
