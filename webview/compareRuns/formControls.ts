/**
 * The form controls of the Compare Runs page: components of @vscode-elements/elements (lit custom
 * elements that take the editor's colours from its CSS variables), each imported on its own so the
 * bundle carries only these. They style themselves with constructable stylesheets and set styles
 * through the CSSOM, so they run under the webviews' Content-Security-Policy as it is (no
 * 'unsafe-inline', no eval). The smoothing slider stays a native <input type="range">: the package
 * has no slider.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { el } from '../page/dom';

export type { VscodeButton, VscodeCheckbox, VscodeSingleSelect, VscodeTextfield };

/** A button; `secondary` for the less prominent ones. Its accessible name is its text. */
export function button(text: string, attrs: Record<string, string>, options: { secondary?: boolean } = {}): VscodeButton {
  const b = el('vscode-button', text, attrs);
  b.secondary = options.secondary ?? true;
  return b;
}

/** Enables or disables a button; aria-disabled too, which the component does not set itself. */
export function setDisabled(b: VscodeButton, disabled: boolean): void {
  b.disabled = disabled;
  b.setAttribute('aria-disabled', String(disabled));
}

/** A checkbox whose label (also its accessible name) is `label`. */
export function checkbox(id: string, label: string, checked: boolean): VscodeCheckbox {
  const box = el('vscode-checkbox', undefined, { id });
  box.label = label;
  box.checked = checked;
  return box;
}

/** A text field; `label` is the accessible name of the input inside it. */
export function textField(attrs: Record<string, string>, label: string): VscodeTextfield {
  const field = el('vscode-textfield', undefined, attrs);
  field.label = label;
  return field;
}

/** A drop-down; `label` is its accessible name. */
export function singleSelect(id: string, label: string): VscodeSingleSelect {
  const select = el('vscode-single-select', undefined, { id });
  select.label = label;
  return select;
}

/** Replaces the options of `select` ([value, text] pairs) and selects `value` when it is one of them. */
export function fillSelect(select: VscodeSingleSelect, options: readonly [string, string][], value: string | null): void {
  const chosen = value !== null && options.some(([v]) => v === value) ? value : options[0]?.[0];
  select.replaceChildren(
    ...options.map(([v, text]) => {
      const option = el('vscode-option', text);
      option.value = v;
      option.selected = v === chosen;
      return option;
    }),
  );
  if (chosen !== undefined) select.value = chosen;
}
