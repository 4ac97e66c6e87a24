/** Entry point of coverage-collector: parse the command line, run the command, exit. */

import { main } from "./src/app/cli.ts";
import { COMMANDS } from "./src/app/commands.ts";

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args, COMMANDS);
  } catch (e) {
    console.error(`coverage-collector: ${e instanceof Error ? e.message : String(e)}`);
    code = 1;
  }
  // Exit now: work left unfinished past the shutdown deadline (a hung fetch, a slow upload)
  // must not keep the process alive.
  Deno.exit(code);
}
