/**
 * Subjects and authors for the series pane, read lazily: only for rows on screen, after
 * the frame that shows them, and cached. A 10,000-patch series starts without reading
 * 10,000 files. A new generation (after any operation) marks the cache stale: entries
 * stay on screen until their re-read arrives, so nothing flickers.
 */
import { useEffect, useRef, useState } from "react";
import type { Stack } from "../queue/stack.js";

export interface HeaderInfo {
  subject: string;
  author: string;
}

export function shortAuthor(author: string | undefined): string {
  if (!author) return "";
  const m = /^\s*"?([^"<]*?)"?\s*<[^>]*>\s*$/.exec(author);
  return (m && m[1] ? m[1] : author).trim();
}

/** The subject as a list shows it: without git format-patch's "[PATCH n/m]" prefix. */
export function displaySubject(subject: string | undefined): string {
  return (subject ?? "").replace(/^\[PATCH[^\]]*\]\s*/i, "");
}

/** The cache (filled in place) and a version that changes whenever new entries arrived. */
export function useHeaders(stack: Stack, names: string[], generation: number): { headers: Map<string, HeaderInfo>; version: number } {
  const cache = useRef(new Map<string, HeaderInfo>());
  const fresh = useRef(new Set<string>());
  const seenGeneration = useRef(generation);
  const [version, setVersion] = useState(0);
  const key = names.join("\n");

  useEffect(() => {
    if (seenGeneration.current !== generation) {
      seenGeneration.current = generation;
      fresh.current.clear();
    }
    const wanted = names.filter((n) => !fresh.current.has(n));
    if (!wanted.length) return;
    let cancelled = false;
    const timer = setTimeout(async () => {
      let changed = false;
      for (const name of wanted) {
        if (cancelled) return;
        const h = await stack.patchHeader(name).catch(() => null);
        const info = { subject: displaySubject(h?.subject), author: shortAuthor(h?.author) };
        const old = cache.current.get(name);
        if (!old || old.subject !== info.subject || old.author !== info.author) changed = true;
        cache.current.set(name, info);
        fresh.current.add(name);
      }
      if (changed && !cancelled) setVersion((t) => t + 1);
    }, 0);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [key, generation, stack]);

  return { headers: cache.current, version };
}
