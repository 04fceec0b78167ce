/** TEST EMULATORS, NOT THE REAL TOOLS: `node cli.mjs TOOL ARGS...`, called by ../bin/TOOL. */
import { main } from "./main.mjs";

const [tool] = process.argv.splice(2, 1);
main(tool);
