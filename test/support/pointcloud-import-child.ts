// Child process for pointcloud-hostile.test.ts: imports one file and prints one
// JSON line (the result or the typed error, and the peak memory seen). Run in
// its own process so a reader that hangs or eats memory is killed by the
// parent's timeout instead of freezing the test runner.
import { importPointCloud } from '../../main/core/pointcloud/import-point-cloud';

let peakArrayBuffers = 0;
const sample = (): void => {
  peakArrayBuffers = Math.max(peakArrayBuffers, process.memoryUsage().arrayBuffers);
};
const timer = setInterval(sample, 2);

function report(result: Record<string, unknown>): void {
  clearInterval(timer);
  sample();
  process.stdout.write(
    `${JSON.stringify({ ...result, peakArrayBuffers, maxRssKb: process.resourceUsage().maxRSS })}\n`,
  );
  process.exit(0);
}

importPointCloud(process.argv[2], { onProgress: sample }).then(
  (cloud) => report({ ok: true, count: cloud.count, droppedNonFinite: cloud.droppedNonFinite }),
  (error: unknown) => {
    const e = error as { name?: string; code?: string; message?: string; fix?: string };
    report({ ok: false, name: e.name, code: e.code, message: e.message, fix: e.fix });
  },
);
