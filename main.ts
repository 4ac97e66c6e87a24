/** Entry point of coverage-collector: parse the command line, run the command, exit. */

import { main } from "./src/cli.ts";
import { COMMANDS } from "./src/commands.ts";

if (import.meta.main) {
  try {
    Deno.exitCode = await main(Deno.args, COMMANDS);
  } catch (e) {
    console.error(`coverage-collector: ${e instanceof Error ? e.message : String(e)}`);
    Deno.exitCode = 1;
  }
}
