import { singleNameCommand } from "../listing.js";

export default singleNameCommand(
  "next",
  "print the patch a push would apply",
  (stack) => stack.next(),
  (stack) => {
    const below = stack.skippedBelowTop();
    if (below.length) return `nothing above the top; unapplied below it: ${below.join(", ")} (pq push --move NAME applies one on top)`;
    return stack.unapplied().length === 0 ? "all patches applied" : "no pushable patch (the rest are guarded off)";
  },
);
