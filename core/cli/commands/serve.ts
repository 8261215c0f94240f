/** `runwise serve`: the MLflow-compatible tracking endpoint on loopback, until interrupted. */
import { intOption, positionals, type OptionSpecs, type ParsedArgs } from '../args';
import type { CommandContext } from '../context';
import { startTrackingServer } from '../../endpoint/trackingServer';

export const serveOptions: OptionSpecs = { port: { value: true, short: 'p' } };

export async function serve(ctx: CommandContext, args: ParsedArgs): Promise<void> {
  positionals(args, []);
  const port = intOption(args, 'port', 0, 65535) ?? 0;
  const fromEnv = Boolean(process.env.RUNWISE_TOKEN);
  // The endpoint's log (a request's unexpected failure, which may quote what a client sent) goes
  // through the CLI's stderr, escaped as all the CLI prints.
  const server = await startTrackingServer({ workspace: ctx.workspace, port, log: (message) => ctx.io.err(`${message}\n`) });
  if (ctx.json) {
    ctx.printJson({ tracking_uri: server.uri, port: server.port, ...(fromEnv ? {} : { token: server.token }) });
  } else {
    ctx.io.out(`Runwise tracking server for ${ctx.workspace}\n`);
    ctx.io.out(`Tracking URI: ${server.uri}\n\n`);
    ctx.io.out('In a shell, for scripts that log with mlflow or a Runwise client:\n');
    ctx.io.out(`  export MLFLOW_TRACKING_URI=${server.uri}\n`);
    ctx.io.out(fromEnv ? '  export MLFLOW_TRACKING_TOKEN="$RUNWISE_TOKEN"\n' : `  export MLFLOW_TRACKING_TOKEN=${server.token}\n`);
    ctx.io.out('\nPress Ctrl+C to stop.\n');
  }
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  if (!ctx.json) ctx.io.err('Tracking server stopped.\n');
}
