/**
 * Who is working: the operating-system user this process runs as, recorded with the model versions
 * and alias moves it makes (the CLI, the extension host, the pipeline runner and the loopback
 * endpoint all run as the user whose work they carry out). '' when the system cannot say.
 */
import { userInfo } from 'node:os';

let cached: string | undefined;

export function currentUser(): string {
  if (cached === undefined) {
    try {
      cached = userInfo().username;
    } catch {
      cached = process.env.USER ?? process.env.USERNAME ?? '';
    }
  }
  return cached;
}
