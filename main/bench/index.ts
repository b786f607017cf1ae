// `npm run bench`: runs every benchmark section, prints the figures and writes
// them to bench-results/latest.json and BENCHMARKS.md (figures from this run,
// each against a baseline measured in the same run where one exists).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchSection } from './bench-types';
import { benchSections } from './sections';

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toPrecision(3);
}

function sectionMarkdown(section: BenchSection): string {
  const lines = [
    `## ${section.name}`,
    '',
    '| figure | value | baseline (same run) | ratio |',
    '|---|---|---|---|',
  ];
  for (const f of section.figures) {
    const baseline = f.baseline ? `${f.baseline.label}: ${formatValue(f.baseline.value)} ${f.unit}` : '';
    const ratio = f.ratio !== undefined ? `${formatValue(f.ratio)}×` : '';
    lines.push(`| ${f.label} | ${formatValue(f.value)} ${f.unit} | ${baseline} | ${ratio} |`);
  }
  for (const note of section.notes ?? []) lines.push('', `- ${note}`);
  lines.push('');
  return lines.join('\n');
}

function toMarkdown(sections: BenchSection[], header: string): string {
  return ['# Benchmarks', '', header, '', ...sections.map(sectionMarkdown)].join('\n');
}

/**
 * A partial run (`npm run bench -- cleanup`) replaces only its sections in
 * the existing BENCHMARKS.md and keeps the others as they were measured, each
 * block stamped with when it ran.
 */
function mergeIntoMarkdown(existing: string, sections: BenchSection[], stamp: string): string {
  const [head, ...blocks] = existing.split(/^(?=## )/m);
  const byHeading = new Map(blocks.map((block) => [block.split('\n', 1)[0].slice(3).trim(), block]));
  for (const section of sections) {
    // A section that stamps its own notes with the time keeps that stamp alone.
    const stamped = (section.notes ?? []).some((note) => note.startsWith('Measured '));
    const notes = stamped
      ? (section.notes ?? [])
      : [...(section.notes ?? []), `Measured ${stamp}, in a run of this section alone.`];
    byHeading.set(section.name, sectionMarkdown({ ...section, notes }) + '\n');
  }
  const intro = head.replace(/^Measured .*$/m, (line) =>
    line.includes('sections re-measured')
      ? line
      : `${line} Some sections re-measured later: see their notes.`,
  );
  return intro + [...byHeading.values()].join('');
}

async function main(): Promise<void> {
  const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const outDir = join(process.cwd(), 'bench-results');
  mkdirSync(outDir, { recursive: true });
  const sections: BenchSection[] = [];
  for (const [name, run] of Object.entries(benchSections)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stdout.write(`[bench] ${name}…\n`);
    const started = performance.now();
    try {
      const section = await run();
      sections.push(section);
      for (const f of section.figures) {
        const ratio =
          f.ratio !== undefined ? `  (${formatValue(f.ratio)}× vs ${f.baseline?.label ?? 'baseline'})` : '';
        process.stdout.write(`  ${f.label}: ${formatValue(f.value)} ${f.unit}${ratio}\n`);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      sections.push({ name, figures: [], notes: [`FAILED: ${message}`] });
      process.stdout.write(`  FAILED: ${message}\n`);
    }
    process.stdout.write(`  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const header =
    `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpu}, ` +
    `${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. Regenerate with \`npm run bench\`.`;
  writeFileSync(join(outDir, 'latest.json'), JSON.stringify({ header, sections }, null, 2));
  const markdownPath = join(process.cwd(), 'BENCHMARKS.md');
  const partial = only.length > 0 && existsSync(markdownPath);
  writeFileSync(
    markdownPath,
    partial
      ? mergeIntoMarkdown(readFileSync(markdownPath, 'utf8'), sections, new Date().toISOString())
      : toMarkdown(sections, header),
  );
  process.stdout.write(`[bench] wrote bench-results/latest.json and BENCHMARKS.md\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
