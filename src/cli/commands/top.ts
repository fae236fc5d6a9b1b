import { singleNameCommand } from "../listing.js";

export default singleNameCommand(
  "top",
  "print the top applied patch",
  (stack) => stack.top(),
  () => "no patches applied",
);
