/** Readable default run names (`bold-heron-042`), as MLflow gives runs that were not named. */
import { randomInt } from 'node:crypto';

const ADJECTIVES = [
  'amber', 'bold', 'brisk', 'calm', 'clever', 'crisp', 'daring', 'eager', 'fair', 'gentle', 'glad',
  'keen', 'lively', 'lucid', 'merry', 'nimble', 'quiet', 'rapid', 'silent', 'steady', 'sunny', 'swift',
  'tidy', 'vivid', 'wise', 'zesty',
];
const NOUNS = [
  'otter', 'heron', 'finch', 'lynx', 'panda', 'falcon', 'badger', 'koala', 'marten', 'raven', 'salmon',
  'tapir', 'whale', 'wren', 'ibex', 'crane', 'gecko', 'hare', 'moth', 'newt', 'owl', 'puffin', 'seal',
  'shrew', 'stork', 'trout',
];

export function generateRunName(): string {
  const a = ADJECTIVES[randomInt(ADJECTIVES.length)]!;
  const n = NOUNS[randomInt(NOUNS.length)]!;
  return `${a}-${n}-${String(randomInt(1000)).padStart(3, '0')}`;
}
