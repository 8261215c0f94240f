/**
 * Library ids a Hugging Face model card may name in `library_name`: the keys of
 * `MODEL_LIBRARIES_UI_ELEMENTS` in huggingface/huggingface.js packages/tasks/src/model-libraries.ts
 * (commit 904f6b349dbf), which the Hub uses for the model page's code snippets and the library
 * filter, plus ids that older cards and tools still write (`pytorch`, `scikit-learn`, `onnx`, `gguf`,
 * `keras-nlp`, ...). The Hub adds libraries often, so a value outside this list is a warning with
 * "did you mean", never an error. Embedded, not fetched: analysis stays offline.
 */
export const HF_HUB_LIBRARIES: readonly string[] = [
  'acestep', 'adapter-transformers', 'allennlp', 'anemoi', 'araclip', 'asteroid', 'audiocraft', 'audioseal',
  'bagel-mot', 'bboxmaskpose', 'ben2', 'bertopic', 'big_vision', 'birder', 'birefnet', 'bm25s', 'champ',
  'chatterbox', 'chat_tts', 'colpali', 'comet', 'contexttab', 'cosmos', 'cxr-foundation', 'deepforest',
  'depth-anything-v2', 'depth-pro', 'derm-foundation', 'describe-anything', 'dia-tts', 'diffree',
  'diffusers', 'diffusionkit', 'doctr', 'cartesia_pytorch', 'cartesia_mlx', 'clipscope', 'cosyvoice',
  'cotracker', 'edsnlp', 'elm', 'espnet', 'fairseq', 'fastai', 'fasttext', 'flair', 'fme', 'gemma.cpp',
  'geometry-crafter', 'gliner', 'glyph-byt5', 'grok', 'hallo', 'hermes', 'hezar', 'htrflow', 'hunyuan-dit',
  'hunyuan3d-2', 'hunyuanworld-voyager', 'imstoucan', 'index-tts', 'infinitetalk', 'infinite-you', 'keras',
  'tf-keras', 'keras-hub', 'kimi-audio', 'kittentts', 'kronos', 'k2', 'lightning-ir', 'litert-lm', 'lerobot',
  'liveportrait', 'llama-cpp-python', 'mini-omni2', 'mindspore', 'magi-1', 'magenta-realtime', 'mamba-ssm',
  'mars5-tts', 'matanyone', 'mesh-anything', 'merlin', 'medvae', 'mitie', 'ml-agents', 'mlx', 'mlx-image',
  'mlc-llm', 'model2vec', 'moshi', 'mtvcraft', 'nemo', 'open-oasis', 'open_clip', 'open-sora', 'outetts',
  'paddlenlp', 'PaddleOCR', 'peft', 'perception-encoder', 'phantom-wan', 'pxia', 'pyannote-audio', 'py-feat',
  'pythae', 'recurrentgemma', 'relik', 'refiners', 'renderformer', 'reverb', 'rkllm', 'saelens', 'sam2',
  'sample-factory', 'sapiens', 'seedvr', 'sentence-transformers', 'setfit', 'sklearn', 'spacy',
  'span-marker', 'speechbrain', 'ssr-speech', 'stable-audio-tools', 'monkeyocr', 'diffusion-single-file',
  'seed-story', 'soloaudio', 'songbloom', 'stable-baselines3', 'stanza', 'swarmformer', 'f5-tts', 'genmo',
  'tencent-song-generation', 'tensorflowtts', 'tabpfn', 'terratorch', 'tic-clip', 'timesfm', 'timm', 'tirex',
  'torchgeo', 'transformers', 'transformers.js', 'trellis', 'ultralytics', 'univa', 'uni-3dar',
  'unity-sentis', 'sana', 'videoprism', 'vfi-mamba', 'lvface', 'voicecraft', 'vui', 'wan2.2', 'wham',
  'whisperkit', 'yolov10', 'zonos', '3dtopia-xl',
];

/** Ids the Hub's list no longer (or never) had but cards in the wild use. */
export const HF_LEGACY_LIBRARIES: readonly string[] = [
  'pytorch', 'scikit-learn', 'onnx', 'onnxruntime', 'gguf', 'llama.cpp', 'vllm', 'joblib', 'keras-nlp',
  'lightgbm', 'xgboost', 'tensorboard', 'tensorflow', 'jax', 'flax', 'ctranslate2', 'coreml', 'openvino',
  'mlx-lm', 'unsloth', 'catboost', 'other',
];

export const HF_LIBRARIES: readonly string[] = [...HF_HUB_LIBRARIES, ...HF_LEGACY_LIBRARIES];
