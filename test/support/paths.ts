// Where tests find the checkout and its shared data, whatever folder depth a test sits at.
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
