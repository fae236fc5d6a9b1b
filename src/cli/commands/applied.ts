import { nameListCommand } from "../listing.js";

export default nameListCommand("applied", "list the applied patches, bottom first", (stack) => stack.applied());
