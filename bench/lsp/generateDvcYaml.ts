/**
 * A realistic dvc.yaml of exactly `lines` lines (the LSP benchmarks' input): `vars`, a large
 * `stages:` mapping (cmd, deps, params, outs with options, metrics, plots, foreach/do, multi-line
 * commands), then top-level `plots`, `metrics`, `params` and `artifacts`, shaped like the examples
 * in DVC's documentation. Deterministic: the same `lines` always gives the same text.
 */
export function generateDvcYaml(lines: number): string {
  const head = [
    '# Generated pipeline (bench/lsp/generateDvcYaml.ts)',
    'vars:',
    '  - params.yaml',
    '  - model:',
    '      name: resnet50',
    '      epochs: 20',
    'stages:',
  ];
  const tail = [
    'plots:',
    '  - plots/prc.json:',
    '      template: simple',
    '      x: recall',
    '      y: precision',
    '  - ROC:',
    '      template: simple',
    '      x: fpr',
    '      y:',
    '        eval/plots/sklearn/roc/train.json: tpr',
    '        eval/plots/sklearn/roc/test.json: tpr',
    'metrics:',
    '  - eval/metrics.json',
    'params:',
    '  - params.yaml',
    'artifacts:',
    '  model:',
    '    path: models/model.pkl',
    '    type: model',
    '    desc: The production classifier',
    '    labels: [resnet, classification]',
  ];
  const out: string[] = [...head];
  const budget = Math.max(0, lines - tail.length);
  for (let i = 0; ; i++) {
    const stage = stageLines(i);
    if (out.length + stage.length > budget) break;
    out.push(...stage);
  }
  while (out.length < budget) out.push('  # end of stages');
  out.push(...tail);
  return out.slice(0, Math.max(lines, 0)).join('\n') + '\n';
}

function stageLines(i: number): string[] {
  const name = ['prepare', 'featurize', 'train', 'evaluate', 'export'][i % 5]!;
  const id = `${name}_${i}`;
  const prev = i > 0 ? `data/${['prepare', 'featurize', 'train', 'evaluate', 'export'][(i - 1) % 5]}_${i - 1}` : 'data/data.xml';
  switch (i % 5) {
    case 0:
      return [
        `  ${id}:`,
        `    cmd: python src/prepare.py ${prev} --seed ${i}`,
        '    deps:',
        `      - ${prev}`,
        '      - src/prepare.py',
        '    params:',
        '      - prepare.seed',
        '      - prepare.split',
        '    outs:',
        `      - data/${id}`,
      ];
    case 1:
      return [
        `  ${id}:`,
        '    cmd: >-',
        `      python src/featurization.py ${prev}`,
        `      data/${id} --max-features 100`,
        '    deps:',
        `      - ${prev}`,
        '      - src/featurization.py',
        '    params:',
        '      - featurize.max_features',
        '      - featurize.ngrams',
        '    outs:',
        `      - data/${id}:`,
        '          persist: true',
        `    desc: "Featurize stage ${i}, bag of words"`,
      ];
    case 2:
      return [
        `  ${id}:`,
        `    cmd: python src/train.py ${prev} models/${id}.pkl`,
        '    wdir: .',
        '    deps:',
        `      - ${prev}`,
        '      - src/train.py',
        '    params:',
        '      - train.seed',
        '      - train.n_est',
        '      - train.min_split',
        '    outs:',
        `      - models/${id}.pkl`,
        '    metrics:',
        `      - metrics/${id}.json:`,
        '          cache: false',
        '    plots:',
        `      - plots/${id}/prc.json:`,
        '          cache: false',
        '          x: recall',
        '          y: precision',
        '    always_changed: false',
      ];
    case 3:
      return [
        `  ${id}:`,
        '    foreach: ${datasets}',
        '    do:',
        `      cmd: python src/evaluate.py models/train_${i - 1}.pkl \${item.path}`,
        '      deps:',
        `        - models/train_${i - 1}.pkl`,
        '        - ${item.path}',
        "      metrics: ['eval/${item.name}/metrics.json']",
        '      frozen: true',
      ];
    default:
      return [
        `  ${id}:`,
        '    cmd:',
        `      - mkdir -p export/${i}`,
        `      - python src/export.py --out export/${i} --format onnx  # ONNX for serving`,
        '    deps: [src/export.py, models/model.pkl]',
        "    outs: ['export/" + i + "']",
        '    meta: {owner: ml-team, ticket: 4' + i + '}',
      ];
  }
}
