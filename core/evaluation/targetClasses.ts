/**
 * A classifier's target column as class indices. The column is read as text (coded where the
 * reader can: one code per distinct text), and each distinct text is matched once:
 *
 * - against the model's class labels when it declares them (a ZipMap's or the classifier node's
 *   `classlabels_strings`, `classlabels_int64s` or `classlabels_ints`): the text itself, then
 *   trimmed, then as a number (so `1.0` is the label 1);
 * - without labels, the text must be a class index 0…C−1.
 *
 * Where a number is read, a boolean in pandas' spellings (`True`, `TRUE`, `true` and the same for
 * false: what pandas' to_csv writes for a bool column, and JSON's) is 1 or 0, as numpy and
 * scikit-learn take a bool target against classes 0 and 1.
 *
 * A value that is not a class is a DatasetError naming the file, the data row, the column, the value
 * and the classes; a text label against a model without labels says what to do instead. A CSV
 * column mixing booleans and numbers (`True` beside 0 and 1) is an error too: pandas reads it as
 * text, which scikit-learn refuses beside the model's numeric predictions ("Mix of label input
 * types").
 */
import { DatasetError, booleanOf, decimalOf, isMissingText, isNumberText, shownCell, type DatasetBatch } from '../dataset/dataset';

/** Where the values come from, for messages. */
export interface TargetSource {
  /** The dataset as shown (relative to the workspace when inside it). */
  data: string;
  column: string;
  /** The model as shown. */
  model: string;
}

const NOT_A_CLASS = -1;

export class TargetClasses {
  private readonly labelIndex: Map<string, number>;
  /** The class index of each code of the coded column (NOT_A_CLASS for a value that is not one). */
  private readonly ofCode: number[] = [];
  /** The same, by text, for a reader that gives the column as strings. */
  private readonly ofText = new Map<string, number>();
  /** The first boolean and the first number met (text), where a column mixing them is refused. */
  private firstBoolean: string | undefined;
  private firstNumber: string | undefined;

  constructor(
    private readonly source: TargetSource,
    private readonly labels: readonly (number | string)[] | undefined,
    private readonly classes: number,
    /** Refuse a column mixing booleans and numbers (a CSV's, which pandas then reads as text). */
    private readonly mixedBooleansRefused = false,
  ) {
    this.labelIndex = new Map((labels ?? []).map((l, i) => [String(l), i]));
  }

  /** indexOf for a text met for the first time at a 1-based data row. */
  private firstMet(text: string, row: number): number {
    if (this.mixedBooleansRefused) {
      const trimmed = text.trim();
      if (booleanOf(trimmed) !== undefined) this.firstBoolean ??= trimmed;
      else if (isNumberText(trimmed)) this.firstNumber ??= trimmed;
      if (this.firstBoolean !== undefined && this.firstNumber !== undefined) {
        const { data, column } = this.source;
        const here = shownCell(trimmed);
        const above = shownCell(here === this.firstBoolean ? this.firstNumber : this.firstBoolean);
        throw new DatasetError(
          `${data} data row ${row}: column '${column}' mixes booleans and numbers ('${here}' here, '${above}' above): ` +
            'pandas reads such a column as text, which scikit-learn cannot compare with the model\'s classes; write it as 1/0 or as True/False throughout',
          column,
        );
      }
    }
    return this.indexOf(text);
  }

  /** The class index of a target text, or −1 when it is none of the model's classes. */
  indexOf(text: string): number {
    const trimmed = text.trim();
    const number = decimalOf(trimmed);
    if (!this.labels) return Number.isInteger(number) && number >= 0 && number < this.classes ? number : NOT_A_CLASS;
    return this.labelIndex.get(text) ?? this.labelIndex.get(trimmed) ?? (Number.isFinite(number) ? this.labelIndex.get(String(number)) : undefined) ?? this.booleanLabel(trimmed) ?? NOT_A_CLASS;
  }

  /**
   * A boolean in pandas' spellings against text labels that spell booleans (`False`/`True` as
   * str(bool) writes them, or `false`/`true`): pandas reads `TRUE` as the same True.
   */
  private booleanLabel(trimmed: string): number | undefined {
    const b = booleanOf(trimmed);
    if (b === undefined) return undefined;
    return this.labelIndex.get(b ? 'True' : 'False') ?? this.labelIndex.get(b ? 'true' : 'false');
  }

  /**
   * Writes the class index of rows [0, rows) of the batch's text column `slot` to `into[at…]`;
   * `rowBase` is the number of data rows before the batch (for messages).
   */
  write(batch: DatasetBatch, slot: number, rows: number, rowBase: number, into: Uint8Array | Float64Array, at: number): void {
    const codes = batch.codes?.[slot];
    if (codes) {
      const texts = batch.labels![slot]!;
      const ofCode = this.ofCode;
      for (let i = 0; i < rows; i++) {
        const code = codes[i]!;
        let k = ofCode[code];
        if (k === undefined) {
          // Codes are given in the order their texts first appear: every code below this one was met in an earlier row.
          for (let c = ofCode.length; c <= code; c++) ofCode.push(this.firstMet(texts[c]!, rowBase + i + 1));
          k = ofCode[code]!;
        }
        if (k < 0) throw this.notAClass(texts[code]!, rowBase + i + 1);
        into[at + i] = k;
      }
      return;
    }
    const texts = batch.texts[slot]!;
    for (let i = 0; i < rows; i++) {
      const text = texts[i]!;
      let k = this.ofText.get(text);
      if (k === undefined) this.ofText.set(text, (k = this.firstMet(text, rowBase + i + 1)));
      if (k < 0) throw this.notAClass(text, rowBase + i + 1);
      into[at + i] = k;
    }
  }

  /** The error for a value that is not a class, at a 1-based data row. */
  notAClass(text: string, row: number): DatasetError {
    const { data, column, model } = this.source;
    const where = `${data} data row ${row}: column '${column}'`;
    const classes = (this.labels ?? Array.from({ length: this.classes }, (_, c) => c)).join(', ');
    const trimmed = text.trim();
    if (isMissingText(text)) return new DatasetError(`${where} has no value${trimmed ? ` ('${trimmed}')` : ''} (expected one of the model's classes: ${classes})`);
    const shown = shownCell(trimmed);
    if (!this.labels && !Number.isFinite(decimalOf(trimmed))) {
      return new DatasetError(
        `${where} is '${shown}', a text label, but ${model} declares no class labels (its classes are the indices ${classes}): ` +
          `write the class indices in '${column}', or export the model with its labels (scikit-learn-onnx keeps them in the ZipMap or in the classifier's classlabels_strings)`,
      );
    }
    return new DatasetError(`${where} is ${isNumberText(trimmed) ? shown : `'${shown}'`}, not one of the model's classes (${classes})`);
  }
}
