/** One benchmark figure as bench/results.json records it: its value beside its target. */
export interface Figure {
  value: number;
  /** The target, as text (`≤ 1.10`, `< 1 ms`, `(contrast)`). */
  target: string;
  /** Whether the value meets it; `null` for figures that are reported, not judged. */
  met: boolean | null;
  detail: Record<string, unknown>;
}
