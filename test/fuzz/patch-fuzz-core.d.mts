/** Types for patch-fuzz-core.mjs (plain JS so the long run needs no TypeScript loader). */
export interface Corpus {
  patches: string[];
  trees: Record<string, string>;
}
export interface FuzzInput {
  seed: number;
  text: string | null;
  strip: number;
  fuzz: number;
}
export interface FuzzFailure {
  kind: "crash" | "invariant" | "hang";
  stage: string;
  text: string | null;
  message: string;
}
export function loadCorpus(root: string): Corpus;
export function makeInput(seed: number, i: number, corpus: Corpus): FuzzInput;
export function runOne(input: FuzzInput, corpus: Corpus, engine: unknown, PqError: unknown): FuzzFailure | null;
