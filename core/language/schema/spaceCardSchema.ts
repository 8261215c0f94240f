/**
 * The schema of a Hugging Face Space's README.md front matter, from the Hub's Spaces configuration
 * reference (huggingface/hub-docs docs/hub/spaces-config-reference.md): `title`, `emoji`, the
 * thumbnail colors, `sdk` and its version, the app file or port, OAuth, hardware hints, and the
 * repository metadata a Space shares with model cards (`license`, `tags`, `models`, `datasets`).
 * Like model card metadata it is open-ended: an unknown key is reported only when it is a near miss
 * of a Space key, and a key may be left empty.
 */
import { cardRoot, HF_PROPERTIES } from './modelCardSchema';
import { bool, enumOf, freeMap, int, listOf, str, strOrList, type PropertySchema, type SchemaNode } from './schemaModel';

/** The SDKs a Space runs on. */
export const SPACE_SDKS: readonly string[] = ['gradio', 'streamlit', 'docker', 'static'];

/** Colors of a Space's thumbnail gradient. */
export const SPACE_COLORS: readonly string[] = ['red', 'yellow', 'green', 'blue', 'indigo', 'purple', 'pink', 'gray'];

const HARDWARE = [
  'cpu-basic', 'cpu-upgrade', 't4-small', 't4-medium', 'l4x1', 'l4x4', 'l40sx1', 'l40sx4', 'l40sx8',
  'a10g-small', 'a10g-large', 'a10g-largex2', 'a10g-largex4', 'a100-large', 'a100x4', 'a100x8',
  'v5e-1x1', 'v5e-2x2', 'v5e-2x4',
];

const color = (which: string): PropertySchema =>
  enumOf(`${which} color of the thumbnail gradient: ${SPACE_COLORS.map((c) => `\`${c}\``).join(', ')}.`, SPACE_COLORS);

const SPACE_PROPERTIES: Record<string, PropertySchema> = {
  title: str('Display title of the Space.'),
  emoji: str('The Space emoji (a single emoji).'),
  colorFrom: color('Start'),
  colorTo: color('End'),
  sdk: { ...enumOf('The SDK the Space runs on: `gradio`, `streamlit`, `docker` or `static`.', SPACE_SDKS), snippet: 'sdk: ${1|gradio,streamlit,docker,static|}' },
  sdk_version: str('Version of the SDK (Gradio or Streamlit), e.g. `4.44.0`.'),
  python_version: str('Python version, `3.x` or `3.x.x` (default `3.10`).'),
  app_file: str('The main application file (Gradio or Streamlit code, or the static HTML page), relative to the repository root.'),
  app_port: int('Port the application listens on (Docker Spaces; default `7860`).'),
  app_build_command: str('Command that builds a static Space (e.g. `npm run build`).'),
  base_path: str('For non-static Spaces, the initial URL path to render (starts with `/`).'),
  fullWidth: bool('Whether the Space is rendered full width.'),
  header: enumOf('The Space header: `default`, or `mini` (a small floating header).', ['default', 'mini']),
  short_description: str('A short description shown on the Space card.'),
  thumbnail: str('URL of a thumbnail image for social sharing.', { hint: 'url' }),
  pinned: bool('Whether the Space stays on top of your profile.'),
  suggested_hardware: str('Hardware suggested to users who duplicate the Space, e.g. `t4-small`.', { suggestions: HARDWARE }),
  suggested_storage: enumOf('Persistent storage suggested to users who duplicate the Space: `small`, `medium` or `large`.', ['small', 'medium', 'large'], { openEnum: true }),
  hf_oauth: bool('Whether the Space has a "Sign in with Hugging Face" OAuth app.'),
  hf_oauth_scopes: listOf({ scalar: { types: ['string'] } }, 'OAuth scopes the Space asks for beyond `openid profile`, e.g. `read-repos`, `inference-api`.'),
  hf_oauth_expiration_minutes: int('How long an OAuth token lasts, in minutes (default 480).'),
  hf_oauth_redirect_path: str('Extra authorized redirect path of the OAuth app.'),
  hf_oauth_authorized_org: strOrList('Organization(s) whose members may sign in.'),
  disable_embedding: bool('Whether the Space may not be embedded in other websites.'),
  startup_duration_timeout: str('How long the Space may take to start, e.g. `30m` or `1h`.'),
  custom_headers: freeMap('HTTP headers added to every response (COEP, COOP, CORP only).'),
  preload_from_hub: listOf({ scalar: { types: ['string'] } }, 'Hub repositories (or files in them) downloaded when the Space is built: `repo_id [files] [revision]`.'),
  models: strOrList('Hub model ids the Space uses.'),
  datasets: strOrList('Hub dataset ids the Space uses.'),
  tags: strOrList('Terms describing the Space.'),
  duplicated_from: str('The Space this one was duplicated from.'),
};

for (const key of ['license', 'license_name', 'license_link', 'language']) SPACE_PROPERTIES[key] = HF_PROPERTIES[key]!;

/** README.md front matter of a Space. */
export const SPACE_CARD_SCHEMA: SchemaNode = cardRoot(SPACE_PROPERTIES);
