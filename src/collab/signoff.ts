/** Trailers for a shared queue's refreshes: the refresher signs off, the author stays. */
import type { PatchHeader } from "../mail/header.js";
import { splitTrailers } from "./header-merge.js";

export function addSignoff(header: PatchHeader, who: string): PatchHeader {
  const line = `Signed-off-by: ${who}`;
  const { message, trailers } = splitTrailers(header.body);
  if (trailers.includes(line)) return header;
  return { ...header, body: [message, [...trailers, line].join("\n")].filter(Boolean).join("\n\n") };
}
