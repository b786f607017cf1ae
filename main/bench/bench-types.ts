// One section of `npm run bench`: figures measured in the same run, with the
// baseline they are compared against where there is one.

export interface BenchFigure {
  label: string;
  value: number;
  unit: string;
  /** A reference measured in the same run (or a published figure, named as such). */
  baseline?: { label: string; value: number };
  /** value / baseline.value, or the speed-up, as stated in the label. */
  ratio?: number;
}

export interface BenchSection {
  name: string;
  figures: BenchFigure[];
  notes?: string[];
}
