import { singleNameCommand } from "../listing.js";

export default singleNameCommand("next", "print the patch a push would apply", (stack) => stack.next());
