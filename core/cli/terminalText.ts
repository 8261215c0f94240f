/**
 * Text for a terminal: what the tracker holds (run names, descriptions, tags, names pulled from a
 * team's server or set over REST) is printed by the CLI, and a control sequence in it would act on
 * the user's terminal (clear it, move the cursor over earlier lines, set its title, write the
 * clipboard through OSC 52). Such characters are shown as `\u001b`-style escapes instead.
 */

// C0 controls but tab and line feed (a CR before an LF is a line end), DEL, C1 controls, and the
// bidirectional overrides and isolates that make text read in another order than it is stored.
// Colours too (ESC [ 8 m hides what follows, past the command's end): a stage's own coloured
// output is written verbatim, not through this.
const UNSAFE = /\r(?!\n)|[\u0000-\u0008\u000b-\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function terminalSafe(text: string): string {
  if (!UNSAFE.test(text)) return text;
  UNSAFE.lastIndex = 0;
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
