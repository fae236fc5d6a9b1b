import type { CommandModule } from "yargs";
import add from "./add.js";
import applied from "./applied.js";
import bisect from "./bisect.js";
import commit from "./commit.js";
import boot from "./boot.js";
import build from "./build.js";
import ci from "./ci.js";
import deleteCmd from "./delete.js";
import diff from "./diff.js";
import exportCmd from "./export.js";
import finish from "./finish.js";
import fold from "./fold.js";
import goto from "./goto.js";
import guard from "./guard.js";
import hook from "./hook.js";
import header from "./header.js";
import importCmd from "./import.js";
import log from "./log.js";
import init from "./init.js";
import newCmd from "./new.js";
import next from "./next.js";
import pop from "./pop.js";
import prev from "./prev.js";
import push from "./push.js";
import rangeDiff from "./range-diff.js";
import refresh from "./refresh.js";
import rename from "./rename.js";
import reorder from "./reorder.js";
import select from "./select.js";
import series from "./series.js";
import status from "./status.js";
import sync from "./sync.js";
import top from "./top.js";
import tui from "./tui.js";
import unapplied from "./unapplied.js";
import undo from "./undo.js";
import redo from "./redo.js";
import oplog from "./oplog.js";
import files from "./files.js";
import patches from "./patches.js";
import show from "./show.js";
import uncommit from "./uncommit.js";
import rebase from "./rebase.js";
import absorb from "./absorb.js";
import queue from "./queue.js";

// One module per command. Add one import line and one entry per command.

export const commands: CommandModule<any, any>[] = [
  init,
  newCmd,
  add,
  refresh,
  push,
  pop,
  goto,
  series,
  applied,
  unapplied,
  top,
  next,
  prev,
  diff,
  status,
  deleteCmd,
  rename,
  fold,
  reorder,
  guard,
  select,
  header,
  importCmd,
  exportCmd,
  finish,
  build,
  boot,
  ci,
  bisect,
  tui,
  undo,
  redo,
  oplog,
  files,
  patches,
  show,
  uncommit,
  rebase,
  absorb,
  queue,
  commit,
  sync,
  log,
  rangeDiff,
  hook,
];
