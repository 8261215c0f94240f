/** The evaluation the model card tests write into cards: binary, two metrics, one slice. */
import type { CardEvaluation } from '../../core/modelCard/cardEvaluation';

export const sampleEvaluation = (runId: string, roc = 0.9123456789): CardEvaluation => ({
  subject: 'churn/1',
  runId,
  task: 'binary',
  dataset: { name: 'test', path: 'data/test.csv', sha256: 'ab'.repeat(32), rows: 200 },
  metrics: [
    { key: 'accuracy', value: 0.84 },
    { key: 'roc_auc', value: roc },
  ],
  threshold: 0.5,
  slices: [{ name: 'region=EU', metrics: [{ key: 'accuracy', value: 0.8 }] }],
});
