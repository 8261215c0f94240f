/**
 * A list of feature columns as one line of text, for `--features` and for the `features` param an
 * evaluation logs (which a champion's evaluation on the stage's data reads back): names separated
 * by commas, a name holding a comma or a quote (or starting or ending with a space) in double quotes
 * as a CSV header writes it (`"spend, usd",tenure`); a JSON list is read too.
 */

/** The names as one line that parseFeatureList reads back to the same names. */
export function formatFeatureList(names: readonly string[]): string {
  // Quoted too: a name starting with `[` (the list would read as JSON).
  return names.map((n) => (/[,"]|^\s|\s$|^\[/.test(n) ? `"${n.replace(/"/g, '""')}"` : n)).join(',');
}

/** The names in `text`; an Error saying what is wrong when it lists none or is malformed. */
export function parseFeatureList(text: string): string[] {
  let names: string[];
  if (text.trim().startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      throw new Error(`'${text}' is not a JSON list of column names`);
    }
    if (!Array.isArray(list) || !list.every((n) => typeof n === 'string')) throw new Error('a JSON list of column names (strings) was expected');
    names = list;
  } else {
    names = [];
    let at = 0;
    while (at <= text.length) {
      let name: string;
      while (text[at] === ' ') at++;
      if (text[at] === '"') {
        let end = -1;
        for (let i = at + 1; i < text.length; i++) {
          if (text[i] === '"' && text[i + 1] === '"') i++;
          else if (text[i] === '"') {
            end = i;
            break;
          }
        }
        if (end < 0) throw new Error(`a quote opened at character ${at + 1} is not closed`);
        name = text.slice(at + 1, end).replace(/""/g, '"');
        at = end + 1;
        while (text[at] === ' ') at++;
        if (at < text.length && text[at] !== ',') throw new Error(`expected a comma after the quoted name "${name}"`);
        names.push(name);
      } else {
        const comma = text.indexOf(',', at);
        const end = comma < 0 ? text.length : comma;
        name = text.slice(at, end).trim();
        at = end;
        if (name !== '') names.push(name);
      }
      at++;
    }
  }
  if (names.length === 0) throw new Error('the list is empty: name the columns that feed the model, separated by commas');
  return names;
}
