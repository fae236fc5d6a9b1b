import { singleNameCommand } from "../listing.js";

export default singleNameCommand(
  "next",
  "print the patch a push would apply",
  (stack) => stack.next(),
  (stack) => (stack.unapplied().length === 0 ? "all patches applied" : "no pushable patch (the rest are guarded off)"),
);
