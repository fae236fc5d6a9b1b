import { singleNameCommand } from "../listing.js";

export default singleNameCommand("prev", "print the patch below the top", (stack) => stack.prev());
