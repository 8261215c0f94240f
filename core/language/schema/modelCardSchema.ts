/**
 * The schema of model cards: Hugging Face model card metadata (the YAML front matter of a README.md,
 * or a `*.modelcard.yaml`), and the Model Card Toolkit sections (`model_details`,
 * `model_parameters`, `quantitative_analysis`, `considerations`) in `*.modelcard.yaml`.
 * Hugging Face metadata is open-ended, so an unknown top-level key is reported only when it is a
 * near miss of a known one; a key that is not required may be left empty (`datasets:`, `null`).
 * Keys other tools write into the same front matter (skops: `model_file`, `model_format`, a
 * `widget` mapping with `structuredData`) are known keys.
 */
import { HF_LIBRARIES } from './hfLibraries';
import { HF_LICENSE_IDS } from './hfLicenses';
import {
  anyValue,
  bool,
  enumOf,
  freeMap,
  listOf,
  mapOf,
  str,
  strOrList,
  type MapSchema,
  type PropertySchema,
  type SchemaNode,
} from './schemaModel';

/** ISO 639-1's two-letter codes, offered (not enforced) for a card's `language`, and the Hub's `multilingual`. */
const ISO_639_1: readonly string[] = [
  'aa',
  'ab',
  'ae',
  'af',
  'ak',
  'am',
  'an',
  'ar',
  'as',
  'av',
  'ay',
  'az',
  'ba',
  'be',
  'bg',
  'bi',
  'bm',
  'bn',
  'bo',
  'br',
  'bs',
  'ca',
  'ce',
  'ch',
  'co',
  'cr',
  'cs',
  'cu',
  'cv',
  'cy',
  'da',
  'de',
  'dv',
  'dz',
  'ee',
  'el',
  'en',
  'eo',
  'es',
  'et',
  'eu',
  'fa',
  'ff',
  'fi',
  'fj',
  'fo',
  'fr',
  'fy',
  'ga',
  'gd',
  'gl',
  'gn',
  'gu',
  'gv',
  'ha',
  'he',
  'hi',
  'ho',
  'hr',
  'ht',
  'hu',
  'hy',
  'hz',
  'ia',
  'id',
  'ie',
  'ig',
  'ii',
  'ik',
  'io',
  'is',
  'it',
  'iu',
  'ja',
  'jv',
  'ka',
  'kg',
  'ki',
  'kj',
  'kk',
  'kl',
  'km',
  'kn',
  'ko',
  'kr',
  'ks',
  'ku',
  'kv',
  'kw',
  'ky',
  'la',
  'lb',
  'lg',
  'li',
  'ln',
  'lo',
  'lt',
  'lu',
  'lv',
  'mg',
  'mh',
  'mi',
  'mk',
  'ml',
  'mn',
  'mr',
  'ms',
  'mt',
  'my',
  'na',
  'nb',
  'nd',
  'ne',
  'ng',
  'nl',
  'nn',
  'no',
  'nr',
  'nv',
  'ny',
  'oc',
  'oj',
  'om',
  'or',
  'os',
  'pa',
  'pi',
  'pl',
  'ps',
  'pt',
  'qu',
  'rm',
  'rn',
  'ro',
  'ru',
  'rw',
  'sa',
  'sc',
  'sd',
  'se',
  'sg',
  'si',
  'sk',
  'sl',
  'sm',
  'sn',
  'so',
  'sq',
  'sr',
  'ss',
  'st',
  'su',
  'sv',
  'sw',
  'ta',
  'te',
  'tg',
  'th',
  'ti',
  'tk',
  'tl',
  'tn',
  'to',
  'tr',
  'ts',
  'tt',
  'tw',
  'ty',
  'ug',
  'uk',
  'ur',
  'uz',
  've',
  'vi',
  'vo',
  'wa',
  'wo',
  'xh',
  'yi',
  'yo',
  'za',
  'zh',
  'zu',
  'multilingual',
];

export const HF_PIPELINE_TAGS: readonly string[] = [
  'text-classification', 'token-classification', 'table-question-answering', 'question-answering',
  'zero-shot-classification', 'translation', 'summarization', 'feature-extraction', 'text-generation',
  'text2text-generation', 'fill-mask', 'sentence-similarity', 'text-ranking', 'text-to-speech', 'text-to-audio',
  'automatic-speech-recognition', 'audio-to-audio', 'audio-classification', 'audio-text-to-text',
  'voice-activity-detection', 'depth-estimation', 'image-classification', 'object-detection',
  'image-segmentation', 'text-to-image', 'image-to-text', 'image-to-image', 'image-to-video',
  'unconditional-image-generation', 'video-classification', 'reinforcement-learning', 'robotics',
  'tabular-classification', 'tabular-regression', 'tabular-to-text', 'table-to-text', 'multiple-choice',
  'text-retrieval', 'time-series-forecasting', 'text-to-video', 'image-text-to-text',
  'visual-question-answering', 'document-question-answering', 'zero-shot-image-classification',
  'graph-ml', 'mask-generation', 'zero-shot-object-detection', 'text-to-3d', 'image-to-3d',
  'image-feature-extraction', 'video-text-to-text', 'keypoint-detection', 'visual-document-retrieval',
  'any-to-any', 'video-to-video', 'other',
];

const METRIC_TYPES = ['accuracy', 'f1', 'precision', 'recall', 'roc_auc', 'wer', 'cer', 'bleu', 'rouge', 'sacrebleu', 'exact_match', 'perplexity', 'matthews_correlation', 'pearsonr', 'spearmanr', 'mae', 'mse', 'rmse', 'r2', 'map', 'mean_iou'];

const MODEL_INDEX_RESULT: SchemaNode = {
  description: 'One evaluation result: the task, the dataset, the metrics measured and where they come from.',
  map: {
    required: ['task', 'dataset', 'metrics'],
    unknownKeys: 'warning',
    properties: {
      task: mapOf(
        {
          required: ['type'],
          unknownKeys: 'warning',
          properties: {
            type: str('Task id, e.g. `text-classification`, `automatic-speech-recognition` (required).', { suggestions: HF_PIPELINE_TAGS }),
            name: str('Pretty name of the task, e.g. `Speech Recognition`.'),
          },
        },
        'The task evaluated.',
      ),
      dataset: mapOf(
        {
          required: ['type', 'name'],
          unknownKeys: 'warning',
          properties: {
            type: str('Dataset id on the Hub, e.g. `common_voice` or `glue` (required).'),
            name: str('Pretty name of the dataset, e.g. `Common Voice (French)` (required).'),
            config: str('Dataset configuration, as passed to `load_dataset()`, e.g. `fr`.'),
            split: str('Split evaluated on, e.g. `test`.', { suggestions: ['train', 'validation', 'test'] }),
            revision: str('Dataset revision (commit).'),
            args: anyValue('Additional arguments to `load_dataset()` (a mapping; cards written by the Trainer put the config name here).'),
          },
        },
        'The dataset evaluated on.',
      ),
      metrics: listOf(
        {
          description: 'A metric value.',
          map: {
            required: ['type', 'value'],
            unknownKeys: 'warning',
            properties: {
              type: str('Metric id, e.g. `wer`, `accuracy` (required).', { suggestions: METRIC_TYPES }),
              value: anyValue('The value measured (required), e.g. `20.90`.'),
              name: str('Pretty name, e.g. `Test WER`.'),
              config: str('Metric configuration, as passed to `load_metric()`.'),
              args: anyValue('Arguments passed to `Metric.compute()`.'),
              verifyToken: str('Signature proving the evaluation was run by Hugging Face.'),
              verified: bool('Whether Hugging Face verified the result.'),
            },
          },
        },
        'Metrics measured (at least `type` and `value` each).',
      ),
      source: mapOf(
        {
          required: ['url'],
          unknownKeys: 'warning',
          properties: {
            name: str('Name of the source, e.g. `Open LLM Leaderboard`.'),
            url: str('Link to the source (required when `source` is given).', { hint: 'url' }),
          },
        },
        'Where the result comes from.',
      ),
    },
  },
};

const WIDGET_ENTRY_DOC = 'An example for the inference widget: `text`, `src` (a file URL), or `structuredData` (a table, for tabular models), with `example_title`, `output`...';
/** One widget example; widgets take task-specific keys, so any other key is accepted too. */
const WIDGET_ENTRY: MapSchema = {
  properties: {
    text: str('Input text.'),
    src: str('URL of an input file (audio, image).', { hint: 'url' }),
    example_title: str('Title of the example.'),
    structuredData: freeMap('A table for tabular widgets: column name → list of values, e.g. `{sepal_length: [5.1, 4.9]}`.'),
    output: anyValue('The expected output shown with the example.'),
  },
  additional: { any: true },
};

/** Hugging Face model card metadata, key by key (Space cards share `license`, `tags`, ...). */
export const HF_PROPERTIES: Readonly<Record<string, PropertySchema>> = {
  language: strOrList('Language(s) of the model: ISO 639-1 codes (`en`, `fr`), or longer codes.', { suggestions: ISO_639_1 }),
  license: { ...str('License id, e.g. `apache-2.0`, `mit`, `cc-by-4.0`; `other` with `license_name` and `license_link`.', { enum: HF_LICENSE_IDS, openEnum: true, hint: 'license' }), snippet: 'license: ${1|apache-2.0,mit,cc-by-4.0,other|}' },
  license_name: str('Id of a license not in the Hub list (with `license: other`), e.g. `my-license-1.0`.'),
  license_link: str('Link to the license text (with `license: other`), e.g. `LICENSE` or a URL.', { hint: 'url' }),
  library_name: str('Library the model works with, e.g. `transformers`, `diffusers`, `sklearn` (one the Hub knows: it decides the code snippet on the model page).', { suggestions: HF_LIBRARIES }),
  tags: strOrList('Free tags to find the model by.'),
  datasets: strOrList('Datasets the model was trained on (Hub dataset ids).'),
  metrics: strOrList('Metrics the model is evaluated with (Hub metric ids, e.g. `accuracy`).', { suggestions: METRIC_TYPES }),
  base_model: strOrList('The model this one was derived from (a Hub model id).'),
  base_model_relation: enumOf('How the model relates to `base_model`: `adapter`, `merge`, `quantized` or `finetune`.', ['adapter', 'merge', 'quantized', 'finetune']),
  pipeline_tag: str('The task, which decides the inference widget: `text-classification`, `text-generation`, ...', {
    enum: HF_PIPELINE_TAGS,
    openEnum: true,
  }),
  new_version: str('A newer version of this model (a Hub model id).'),
  widget: {
    description: 'Examples shown in the inference widget: a list of examples (or one example as a mapping, as skops writes it).',
    seq: { items: { description: WIDGET_ENTRY_DOC, map: WIDGET_ENTRY } },
    map: WIDGET_ENTRY,
  },
  co2_eq_emissions: {
    description: 'CO2 emitted by training: grams, or `{emissions, source, training_type, geographical_location, hardware_used}`.',
    scalar: { types: ['number'] },
    map: {
      unknownKeys: 'warning',
      properties: {
        emissions: { description: 'Grams of CO2 equivalent.', scalar: { types: ['number'] } },
        source: str('How the emissions were measured, e.g. `CodeCarbon`.'),
        training_type: str('`pre-training` or `fine-tuning`.', { suggestions: ['pre-training', 'fine-tuning'] }),
        geographical_location: str('Where the compute ran.'),
        hardware_used: str('Hardware used, e.g. `8 A100s`.'),
      },
    },
  },
  'model-index': {
    description: 'Evaluation results in the Hub format (`papers with code` compatible): a list of `{name, results}`.',
    seq: {
      items: {
        map: {
          required: ['name', 'results'],
          requiredHints: { results: 'Runwise writes them from an evaluation: the Update from Latest Evaluation lens, or `runwise card update`.' },
          unknownKeys: 'warning',
          properties: {
            name: str('The model id (required).'),
            results: listOf(MODEL_INDEX_RESULT, 'The evaluation results.'),
          },
        },
      },
    },
    snippet:
      'model-index:\n  - name: ${1:my-model}\n    results:\n      - task:\n          type: ${2:text-classification}\n        dataset:\n          type: ${3:glue}\n          name: ${4:GLUE}\n        metrics:\n          - type: ${5:accuracy}\n            value: ${6:0.9}',
  },
  // Widely used, documented elsewhere in the Hub docs: accepted without checks.
  thumbnail: str('URL of a thumbnail for the model page.', { hint: 'url' }),
  inference: anyValue('`false` disables the inference widget; or inference parameters.'),
  model_name: str('Name of the model.'),
  model_creator: str('Who made the model.'),
  model_type: str('Architecture family, e.g. `llama`.'),
  quantized_by: str('Who quantized the model.'),
  prompt_template: str('The prompt format the model expects.'),
  extra_gated_prompt: str('Text shown before a user requests access to a gated model.'),
  extra_gated_fields: freeMap('Fields a user fills in to request access.'),
  extra_gated_heading: str('Heading of the access request form.'),
  extra_gated_description: str('Description on the access request form.'),
  extra_gated_button_content: str('Label of the access request button.'),
  // Written by skops (`metadata_from_config`) for scikit-learn models.
  model_file: str('The model file in the repository (skops), e.g. `skops-model.skops` or `model.pkl`.'),
  model_format: {
    description: 'Format of `model_file` (skops): `skops` or `pickle`.',
    scalar: { types: ['string'], enum: ['skops', 'pickle'], openEnum: true },
    // skops writes `{}` when its config has no format.
    map: { properties: {}, additional: { any: true } },
  },
};

const described = (description: string): SchemaNode => ({
  map: { properties: { description: str(description) }, unknownKeys: 'warning' },
});
const graphics: PropertySchema = mapOf(
  {
    unknownKeys: 'warning',
    properties: {
      description: str('What the graphics show.'),
      collection: listOf({ map: { unknownKeys: 'warning', properties: { name: str('Name of the graphic.'), image: str('The image, base64-encoded or a path.') } } }, 'The graphics.'),
    },
  },
  'Graphics (charts, images) for this section.',
);

const MCT_PROPERTIES: Record<string, PropertySchema> = {
  schema_version: str('Model Card Toolkit schema version, e.g. `0.0.2`.'),
  model_details: mapOf(
    {
      unknownKeys: 'warning',
      properties: {
        name: str('Name of the model.'),
        overview: str('A short description of the model.'),
        documentation: str('A longer description: what the model does, how it was trained.'),
        owners: listOf({ map: { unknownKeys: 'warning', properties: { name: str('Owner name.'), contact: str('How to reach them.') } } }, 'Who owns the model.'),
        version: mapOf({ unknownKeys: 'warning', properties: { name: str('Version name.'), date: str('Release date.'), diff: str('What changed from the previous version.') } }, 'The model version.'),
        licenses: listOf({ map: { unknownKeys: 'warning', properties: { identifier: str('SPDX license id.'), custom_text: str('License text when not an SPDX id.') } } }, 'Licenses of the model.'),
        references: listOf({ map: { unknownKeys: 'warning', properties: { reference: str('A link or citation.') } } }, 'Links to more information.'),
        citations: listOf({ map: { unknownKeys: 'warning', properties: { style: str('Citation style, e.g. `bibtex`.'), citation: str('The citation.') } } }, 'How to cite the model.'),
        path: str('Where the model is stored.', { hint: 'input-path' }),
        regulatory_requirements: str('Regulatory requirements the model meets.'),
      },
    },
    'Model Card Toolkit: name, owners, version, licenses, references of the model.',
  ),
  model_parameters: mapOf(
    {
      unknownKeys: 'warning',
      properties: {
        model_architecture: str('The architecture, e.g. `gradient boosted trees`.'),
        data: listOf(
          {
            map: {
              unknownKeys: 'warning',
              properties: {
                name: str('Dataset name.'),
                path: str('Where the dataset is stored.', { hint: 'input-path' }),
                link: str('A link to the dataset.', { hint: 'url' }),
                description: str('What the dataset is.'),
                create_date: str('When the dataset was made.'),
                sensitive: mapOf({ unknownKeys: 'warning', properties: { sensitive_data: listOf({ scalar: { types: ['string'] } }, 'Kinds of sensitive data it contains.') } }, 'Sensitive data in the dataset.'),
                graphics,
              },
            },
          },
          'Datasets used to train and evaluate the model.',
        ),
        input_format: str('The input format.'),
        input_format_map: listOf({ map: { unknownKeys: 'warning', properties: { key: str(), value: str() } } }, 'Input format, field by field.'),
        output_format: str('The output format.'),
        output_format_map: listOf({ map: { unknownKeys: 'warning', properties: { key: str(), value: str() } } }, 'Output format, field by field.'),
      },
    },
    'Model Card Toolkit: architecture, data, input and output formats.',
  ),
  quantitative_analysis: mapOf(
    {
      unknownKeys: 'warning',
      properties: {
        performance_metrics: listOf(
          {
            map: {
              unknownKeys: 'warning',
              properties: {
                type: str('Metric, e.g. `accuracy`.'),
                value: anyValue('The value.'),
                slice: str('The data slice it was measured on.'),
                // The toolkit's PerformanceMetric has these four fields; its from_json refuses any other (a `name`, a `threshold`).
                confidence_interval: mapOf({ unknownKeys: 'warning', properties: { lower_bound: anyValue('Lower bound.'), upper_bound: anyValue('Upper bound.') } }, 'Confidence interval.'),
              },
            },
          },
          'Measured performance, per metric and slice.',
        ),
        graphics,
      },
    },
    'Model Card Toolkit: performance metrics and charts.',
  ),
  considerations: mapOf(
    {
      unknownKeys: 'warning',
      properties: {
        users: listOf(described('Who the model is for.'), 'Intended users.'),
        use_cases: listOf(described('A use case.'), 'Intended uses.'),
        limitations: listOf(described('A limitation.'), 'Known limitations.'),
        tradeoffs: listOf(described('A tradeoff.'), 'Tradeoffs made.'),
        ethical_considerations: listOf(
          { map: { unknownKeys: 'warning', properties: { name: str('The risk.'), mitigation_strategy: str('How it is mitigated.') } } },
          'Ethical risks and mitigations.',
        ),
      },
    },
    'Model Card Toolkit: users, use cases, limitations, tradeoffs, ethical considerations.',
  ),
};

/**
 * The root of a card: a mapping of open-ended metadata, or nothing at all (an empty front matter
 * block, which `huggingface_hub` reads as no metadata).
 */
export const cardRoot = (props: Readonly<Record<string, PropertySchema>>): SchemaNode => ({
  scalar: { types: ['null'] },
  map: { properties: props, unknownKeys: 'suggest' },
});

/** README.md front matter: Hugging Face metadata. */
export const HF_MODEL_CARD_SCHEMA: SchemaNode = cardRoot(HF_PROPERTIES);
/** `*.modelcard.yaml`: Hugging Face metadata plus the Model Card Toolkit sections. */
export const MODEL_CARD_FILE_SCHEMA: SchemaNode = cardRoot({ ...HF_PROPERTIES, ...MCT_PROPERTIES });

/**
 * `model_card.json`, what the toolkit's `from_json` reads: its sections only, and every key it does
 * not know an error, as its JSON schema (`additionalProperties: false`) refuses the card.
 */
export const MCT_JSON_CARD_SCHEMA: SchemaNode = strictKeys(cardRoot(MCT_PROPERTIES));

/** The schema with every map's unknown keys an error, all the way down. */
function strictKeys<T extends SchemaNode>(node: T): T {
  const map = node.map && {
    ...node.map,
    unknownKeys: 'error' as const,
    properties: Object.fromEntries(Object.entries(node.map.properties).map(([k, v]) => [k, strictKeys(v)])),
  };
  const seq = node.seq && { ...node.seq, items: strictKeys(node.seq.items) };
  return { ...node, ...(map ? { map } : {}), ...(seq ? { seq } : {}) };
}
