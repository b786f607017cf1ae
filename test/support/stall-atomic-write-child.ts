// Child for the kill -9 leftovers test: starts an atomic write into the folder
// given, writes some bytes, says "writing" and then stalls until killed.
import { writeFileAtomic } from '../../main/core/pointcloud/atomic-file';

const [path] = process.argv.slice(2);
void writeFileAtomic(path, async (file) => {
  await file.write(Buffer.alloc(1 << 20, 7));
  process.stdout.write('writing\n');
  await new Promise(() => undefined); // killed here
});
