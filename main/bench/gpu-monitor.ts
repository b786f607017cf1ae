// NVIDIA GPUs seen through nvidia-smi, for the GPU benchmark: the card's name
// and driver for the report, and its used memory polled while a run's process
// works. WebGPU (Dawn) allocates through Vulkan, which no per-process query
// of nvidia-smi lists reliably, so the figure is the card's memory.used at its
// peak minus the reading just before the run (the machine runs nothing else).
import { execFile, spawn } from 'node:child_process';

export interface NvidiaGpu {
  name: string;
  driver: string;
  memoryTotalMiB: number;
  memoryUsedMiB: number;
}

/** The first NVIDIA GPU, or null where nvidia-smi is missing or answers nothing. */
export function nvidiaGpu(): Promise<NvidiaGpu | null> {
  return new Promise((done) =>
    execFile(
      'nvidia-smi',
      ['--query-gpu=name,driver_version,memory.total,memory.used', '--format=csv,noheader,nounits'],
      { timeout: 15_000 },
      (error, stdout) => {
        const fields =
          (stdout ?? '')
            .split('\n')[0]
            ?.split(',')
            .map((s) => s.trim()) ?? [];
        if (error || fields.length < 4) return done(null);
        done({
          name: fields[0],
          driver: fields[1],
          memoryTotalMiB: Number(fields[2]),
          memoryUsedMiB: Number(fields[3]),
        });
      },
    ),
  );
}

export interface GpuMemoryPeak {
  /** memory.used just before the run, MiB. */
  idleMiB: number;
  /** The largest memory.used seen while it ran, MiB. */
  peakMiB: number;
  samples: number;
}

/**
 * Polls memory.used every `intervalMs` (nvidia-smi's own loop: one process, not
 * one per sample) until stop(). Null where nvidia-smi is missing.
 */
export async function watchGpuMemory(intervalMs = 100): Promise<{ stop(): Promise<GpuMemoryPeak> } | null> {
  const idle = await nvidiaGpu();
  if (!idle) return null;
  const poll = spawn(
    'nvidia-smi',
    ['--query-gpu=memory.used', '--format=csv,noheader,nounits', `--loop-ms=${intervalMs}`],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  let peakMiB = idle.memoryUsedMiB;
  let samples = 0;
  let pending = '';
  poll.stdout.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString()).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const used = Number(line.trim());
      if (line.trim() === '' || !Number.isFinite(used)) continue;
      peakMiB = Math.max(peakMiB, used);
      samples++;
    }
  });
  poll.on('error', () => undefined); // vanished meanwhile: the samples so far stand
  const exited = new Promise<void>((done) => poll.on('exit', () => done()));
  return {
    async stop() {
      poll.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 2000))]);
      return { idleMiB: idle.memoryUsedMiB, peakMiB, samples };
    },
  };
}
