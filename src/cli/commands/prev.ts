import { singleNameCommand } from "../listing.js";

export default singleNameCommand(
  "prev",
  "print the patch below the top",
  (stack) => stack.prev(),
  (stack) => (stack.applied().length === 0 ? "no patches applied" : "only one patch applied"),
);
