import { operandWords } from "../core/shell-word.js";

/**
 * The commands that delete a patch the sync kept, from the stack as the stop left it: an applied
 * one is popped first, as pq delete refuses an applied patch (t123 N2: the advice was refused word for word).
 */
export function deleteWay(applied: readonly string[], name: string): string {
  const at = applied.indexOf(name);
  if (at === -1) return `pq delete ${operandWords(name)}`;
  return `${at === 0 ? "pq pop -a" : `pq goto ${operandWords(applied[at - 1])}`}, then pq delete ${operandWords(name)}`;
}
