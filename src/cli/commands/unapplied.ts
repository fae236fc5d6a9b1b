import { nameListCommand } from "../listing.js";

export default nameListCommand("unapplied", "list the patches not applied, in series order", (stack) => stack.unapplied());
